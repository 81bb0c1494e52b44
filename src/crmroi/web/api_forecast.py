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


class BacktestOut(BaseModel):
    horizon: int = Field(description="Months after the forecast's month (1 = the next).")
    forecasts: int
    accuracy: float | None = Field(description="Mean of 1 - |actual - forecast| / actual.")
    naive_accuracy: float | None = Field(description="The same for the 3-month run rate.")
    bias: float | None = Field(description="Mean (forecast - actual) / actual.")
    coverage: float | None = Field(description="Share of actual months inside the interval.")


class ForecastOut(BaseModel):
    as_of: dt.date
    available: bool
    reason: str | None = None
    open_deals: int | None = None
    open_amount: float | None = None
    months: list[ForecastMonthOut] = Field(default_factory=list)
    backtest_origins: int | None = None
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
                )
                for m in pf.months
            ],
            backtest_origins=pf.origins,
            backtest=[
                BacktestOut(
                    horizon=r.horizon,
                    forecasts=r.forecasts,
                    accuracy=finite(r.accuracy),
                    naive_accuracy=finite(r.naive_accuracy),
                    bias=finite(r.bias),
                    coverage=finite(r.coverage),
                )
                for r in pf.backtest
            ],
        )
