"""`/api/v1/actuals`'s answer: plan versus actual of the saved business case, as in
`crmroi roi --actuals --format json` (`crmroi.finance.actuals.PlanVsActual.to_json`):
lines to date, re-forecast, people ROI, adoption by month against the plan (with the
`adoption_lag` warning) and the weekly adoption measures (`usage`)."""

from __future__ import annotations

import math
from typing import Any

from pydantic import BaseModel, Field

from crmroi.messages import code_of
from crmroi.web.dashboard_data import CaseView

__all__ = ["ActualsOut", "strict_json"]


def strict_json(value: Any) -> Any:
    """`value` with every non-finite float (a payback that never comes) as None."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {k: strict_json(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [strict_json(v) for v in value]
    return value


class ActualsOut(BaseModel):
    case: str
    available: bool
    reason: str | None = Field(default=None, description="Why plan versus actual is missing.")
    reason_code: str | None = Field(
        default=None, description="The stable code of `reason` (`actuals_unavailable`: no code)."
    )
    months_to_date: int | None = None
    main_driver: str | None = None
    lines: list[dict[str, Any]] = Field(
        default_factory=list, description="Each benefit line and cost category, plan and actual."
    )
    reforecast: dict[str, Any] | None = Field(
        default=None, description="Figures at the measured changes and actual costs to date."
    )
    plan: dict[str, Any] | None = Field(default=None, description="The plan's own figures.")
    people: dict[str, Any] = Field(default_factory=dict, description="People ROI.")
    adoption: dict[str, Any] | None = Field(
        default=None,
        description="Planned and measured share of users working in the CRM by case month, "
        "payback and NPV with each, and the adoption_lag warning.",
    )
    adoption_by_team: dict[str, Any] | None = None
    warnings: list[dict[str, Any]] = Field(
        default_factory=list,
        description="Measured changes the re-forecast scales up more than twice "
        "(measured_extrapolated) or leaves at plan, more than five times "
        "(measured_not_extrapolated): code, line, measured_at, factor, refused, message.",
    )
    usage: dict[str, Any] | None = Field(
        default=None,
        description="Weekly adoption per team and rep, records per rep-day, open deals with "
        "a next activity, completeness of the fields the KPIs read.",
    )

    @classmethod
    def of(cls, view: CaseView) -> ActualsOut:
        name = view.saved.name
        pva = view.actuals
        if pva is None:
            reason = view.actuals_error or "plan versus actual is not available"
            code = code_of(reason, "actuals_unavailable")
            return cls(case=name, available=False, reason=str(reason), reason_code=code)
        doc = strict_json(pva.to_json())
        return cls(case=name, available=True, **doc)
