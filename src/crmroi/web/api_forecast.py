"""`/api/v1/forecast`'s answer: the pipeline forecast and its back-test, as in the report
(`crmroi.improve.pipeline` through `crmroi.reports.improve.fit_forecast`)."""

from __future__ import annotations

import datetime as dt

from pydantic import BaseModel, Field

from crmroi.finite import finite
from crmroi.reports.model import Improvements


class ForecastMonthOut(BaseModel):
    month: dt.date
    expected: float | None = Field(description="Expected won revenue (base currency).")
    open_deals: float | None = Field(description="Part from the deals open on as_of.")
    new_deals: float | None = Field(description="Part from deals not yet created.")
    low: float | None = Field(description="80% interval, low end.")
    high: float | None = Field(description="80% interval, high end.")
    calibrated: bool = Field(
        description="The interval is calibrated on the back-test's errors at this horizon "
        "(else it is the model's own, which the back-test shows too narrow)."
    )
    naive: float | None = Field(description="Mean won revenue of the 3 latest full months.")
    blend: float | None = Field(description="Mean of expected and naive.")
    blend_low: float | None = Field(description="The blend's calibrated 80% low end.")
    blend_high: float | None = Field(description="The blend's calibrated 80% high end.")
    better_than_naive: str = Field(
        description="better, no_better or untested: the pipeline against the naive mean in "
        "the back-test at this horizon."
    )
    recommended: str = Field(
        description="pipeline where the back-test showed it beat the naive mean, else blend."
    )


class BacktestOut(BaseModel):
    horizon: int = Field(description="Months after the forecast's month (1 = the next).")
    forecasts: int
    accuracy: float | None = Field(description="Mean of 1 - |actual - forecast| / actual.")
    naive_accuracy: float | None = Field(description="The same for the 3-month run rate.")
    bias: float | None = Field(description="Mean (forecast - actual) / actual.")
    coverage: float | None = Field(
        description="Share of actual months inside the calibrated interval (over the "
        "`calibrated` forecasts that had one)."
    )
    calibrated: int = Field(description="Forecasts with a calibrated interval.")
    recommended_accuracy: float | None = Field(
        description="Accuracy of the figure recommended at each origin (the blend where "
        "the earlier months did not show the pipeline better than the naive mean)."
    )
    blend_coverage: float | None = Field(description="The same for the blend's interval.")
    model_coverage: float | None = Field(description="The same for the model's own interval.")
    better_than_naive: str = Field(description="better, no_better or untested.")


class ForecastOut(BaseModel):
    as_of: dt.date
    available: bool
    reason: str | None = None
    open_deals: int | None = None
    open_amount: float | None = None
    months: list[ForecastMonthOut] = Field(default_factory=list)
    backtest_origins: int | None = None
    open_without_amount: int | None = Field(
        default=None, description="Open deals with no amount, counted as 0 (understated)."
    )
    backtest_reason: str | None = Field(
        default=None, description="Why there is no back-test (the intervals are the model's)."
    )
    backtest: list[BacktestOut] = Field(default_factory=list)

    @classmethod
    def of(cls, im: Improvements) -> ForecastOut:
        pf = im.forecast
        if pf is None:
            return cls(as_of=im.as_of, available=False, reason=im.forecast_reason)
        return cls(
            as_of=pf.as_of,
            available=True,
            open_deals=pf.open_deals,
            open_amount=finite(pf.open_amount),
            months=[
                ForecastMonthOut(
                    month=m.month,
                    expected=finite(m.expected),
                    open_deals=finite(m.open_deals),
                    new_deals=finite(m.new_deals),
                    low=finite(m.low),
                    high=finite(m.high),
                    calibrated=m.calibrated,
                    naive=finite(m.naive),
                    blend=finite(m.blend),
                    blend_low=finite(m.blend_low),
                    blend_high=finite(m.blend_high),
                    better_than_naive=m.verdict,
                    recommended=m.recommended,
                )
                for m in pf.months
            ],
            backtest_origins=pf.origins,
            backtest_reason=pf.backtest_reason,
            open_without_amount=pf.open_without_amount,
            backtest=[
                BacktestOut(
                    horizon=r.horizon,
                    forecasts=r.forecasts,
                    accuracy=finite(r.accuracy),
                    naive_accuracy=finite(r.naive_accuracy),
                    bias=finite(r.bias),
                    coverage=finite(r.coverage),
                    calibrated=r.calibrated,
                    recommended_accuracy=finite(r.recommended_accuracy),
                    blend_coverage=finite(r.blend_coverage),
                    model_coverage=finite(r.model_coverage),
                    better_than_naive=r.better_than_naive,
                )
                for r in pf.backtest
            ],
        )
