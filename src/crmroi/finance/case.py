"""The business case (`case.yaml`) as pydantic models, loaded with errors naming file and line.

Units: money is per month in the workspace's base currency unless a field says
otherwise; rates and shares are fractions (0.10, not 10); growth and discount
rates are per year; months count from 1 (month 0 is "at signing").

A number that is uncertain may be given as a range, `{low: 1, likely: 2, high: 4}`,
which the simulation draws from a PERT distribution and the deterministic case
takes at `likely`. A driver's `change` may instead be `measured`: it is then read
from the KPI engine's change on the workspace. The customer inputs of the retention
and customer-value drivers may be `clv`: read from the lifetime-value model fitted
on the workspace's orders, with the case's `clv` settings.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Annotated, Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from crmroi.errors import ConfigurationError, InputFileError
from crmroi.finance.case_errors import case_error_messages, case_invalid
from crmroi.finance.drivers import Driver
from crmroi.finance.estimates import Estimate, Range, likely
from crmroi.finance.roi import RoiKind
from crmroi.finance.tco import COST_CATEGORIES
from crmroi.limits import refuse_long_case
from crmroi.messages import M_, N_, Message, Num
from crmroi.yaml_lines import LineIndex, load_yaml_with_lines

__all__ = [
    "AvoidedLoss",
    "Case",
    "ClvSettings",
    "CostItem",
    "Estimate",
    "Ramp",
    "Range",
    "RiskDefaults",
    "case_problems",
    "likely",
    "load_case",
    "parse_case",
]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Ramp(_Strict):
    """A share by month from go-live: linear from `start` to `end` over `months`, then flat.

    Or `by_month`: explicit shares for months 1, 2, ... after go-live (the last one is held).
    `measured: true` (the adoption ramp only): the months the workspace has measured
    adoption for take the measured share, later months this ramp (the plan), read by
    `crmroi.casework.model_for` (`crmroi.finance.adoption.measured_then_plan`).
    """

    start: float = Field(default=1.0, ge=0, le=1)
    end: float = Field(default=1.0, ge=0, le=1)
    months: int = Field(default=1, ge=1)
    by_month: list[Annotated[float, Field(ge=0, le=1)]] | None = None
    measured: bool = False


class CostItem(_Strict):
    """One cost line, in a category of the data contract's `crm_costs`.

    `amount` is money (per month when recurring, per user and month with
    `per_user`); `actual` reads the category's rows from the workspace's
    `crm_costs` instead (months after the last actual month continue at the run
    rate of the last three months' recurring rows). `currency` (an ISO code) is the
    currency of `amount` when it is not the case's: it is converted month by month with
    the workspace's dated `fx_rates` (`crmroi.casework.fx_rates_for`).
    """

    category: Literal[COST_CATEGORIES]  # type: ignore[valid-type]
    name: str | None = None
    kind: Literal["one_time", "recurring"] = "recurring"
    amount: Estimate | Literal["actual"]
    per_user: bool = False
    start_month: int = Field(default=1, ge=0)
    end_month: int | None = Field(default=None, ge=0)
    growth: float = Field(default=0.0, ge=-1, description=N_("per year (fraction)"))
    risk_adjustment: float | None = Field(default=None, ge=0, le=5)
    currency: str | None = Field(
        default=None, pattern=r"^[A-Za-z]{3}$", description=N_("ISO 4217 code of `amount`")
    )

    @property
    def label(self) -> str:
        return self.name or self.category


class AvoidedLoss(_Strict):
    """A loss of the "do nothing" scenario the CRM avoids (money per month), e.g. churn."""

    name: str
    amount: Estimate
    start_month: int = Field(default=1, ge=0)
    growth: float = Field(
        default=0.0, ge=-1, description=N_("change of the loss per year (fraction)")
    )
    kpi: str | None = None
    risk_adjustment: float | None = Field(default=None, ge=0, le=1)


class RiskDefaults(_Strict):
    """TEI-style risk adjustment: benefits reduced by `benefits`, costs raised by `costs`."""

    benefits: float = Field(default=0.10, ge=0, le=1)
    costs: float = Field(default=0.10, ge=0, le=5)


class ClvSettings(_Strict):
    """How driver inputs given as `clv` are read from the workspace's orders.

    BG/NBD and Gamma-Gamma are fitted by maximum likelihood on every account's orders
    up to `as_of` (default: the workspace's latest record); the value per customer is
    the expected value over the next `horizon_months`, undiscounted, divided by those
    months (the case discounts the flows itself).
    """

    horizon_months: int = Field(default=12, ge=1, le=120)
    as_of: dt.date | None = None


class Case(_Strict):
    """A whole business case (see docs/business_case.md)."""

    name: str
    currency: str = "USD"
    start: dt.date | None = Field(default=None, description=N_("first day of month 1"))
    horizon_months: int = Field(default=36, ge=1, le=240)
    discount_rate: float = Field(default=0.10, ge=0, le=1, description=N_("per year"))
    users: int = Field(default=1, ge=1, description=N_("licensed users"))
    go_live_month: int = Field(default=1, ge=1, description=N_("first month with benefits"))
    adoption: Ramp = Ramp()
    benefit_ramp: Ramp = Ramp()
    risk: RiskDefaults = RiskDefaults()
    costs: list[CostItem] | Literal["actual"] = Field(default_factory=list)
    benefits: list[Driver] = Field(default_factory=list)
    do_nothing: list[AvoidedLoss] = Field(default_factory=list)
    intangible_benefits: list[str] = Field(default_factory=list)
    risks: list[str] = Field(default_factory=list)
    clv: ClvSettings = ClvSettings()
    headline_roi: RoiKind = Field(
        default="net_roi",
        description=N_("the ROI formula the case leads with (all five are shown, labelled)"),
    )

    @property
    def uses_actuals(self) -> bool:
        """True when any cost is read from the workspace's crm_costs."""
        if self.costs == "actual":
            return True
        return any(c.amount == "actual" for c in self.costs)

    @property
    def uses_measured(self) -> bool:
        """True when any benefit driver's change is measured on the workspace."""
        return any(d.change == "measured" for d in self.benefits)

    @property
    def uses_measured_adoption(self) -> bool:
        """True when the adoption ramp is `measured` (read from the workspace to date)."""
        return self.adoption.measured

    @property
    def uses_clv(self) -> bool:
        """True when any driver input is read from the lifetime-value model (`clv`)."""
        return any(d.clv_fields for d in self.benefits)

    @property
    def foreign_currencies(self) -> list[str]:
        """The currencies (upper case) of cost items not in the case's currency."""
        if self.costs == "actual":
            return []
        own = self.currency.upper()
        found = {c.currency.upper() for c in self.costs if c.currency}
        return sorted(found - {own})

    @property
    def needs_workspace(self) -> bool:
        """True when the case reads actual costs, measured changes or adoption, lifetime
        value or exchange rates."""
        return (
            self.uses_actuals
            or self.uses_measured
            or self.uses_measured_adoption
            or self.uses_clv
            or bool(self.foreign_currencies)
        )


def case_problems(case: Case) -> list[tuple[tuple[str | int, ...], Message]]:
    """Problems pydantic cannot see field by field: (YAML path, message) pairs.

    Double counting (two benefits drawing value from one KPI, including the KPIs a
    driver's own KPI already contains, `Driver.OVERLAPS`), duplicate benefit names, and
    actual costs without a `start` date.
    """
    problems: list[tuple[tuple[str | int, ...], Message]] = []
    claims: dict[str, str] = {}
    seen: set[str] = set()
    within: dict[str, str] = {}  # KPI -> the KPI that contains it (an overlap)
    items: list[tuple[tuple[str | int, ...], str, str | None, tuple[str, ...]]] = [
        (("benefits", i), d.label, d.kpi, d.OVERLAPS) for i, d in enumerate(case.benefits)
    ]
    items += [(("do_nothing", i), x.name, x.kpi, ()) for i, x in enumerate(case.do_nothing)]
    for loc, label, kpi, overlaps in items:
        if label in seen:
            problems.append(
                (
                    loc,
                    M_(
                        "case_name_twice",
                        "benefit name %(name)s is used twice; names must be unique",
                        name=repr(label),
                    ),
                )
            )
        seen.add(label)
        mine = ((kpi,) if kpi else ()) + overlaps
        for k in mine:
            if k in claims:
                outer = within.get(k) or (kpi if k in overlaps else None)
                problems.append((loc, _double_counting(claims[k], label, k, outer)))
                break
        for k in mine:
            claims.setdefault(k, label)
            if k in overlaps and kpi:
                within.setdefault(k, kpi)
    if case.foreign_currencies and case.start is None:
        problems.append(
            (
                ("costs",),
                M_(
                    "case_start_for_rates",
                    "`start` (first day of month 1) is needed to convert costs by date",
                ),
            )
        )
    if case.uses_actuals and case.start is None:
        problems.append(
            (
                ("costs",),
                M_(
                    "case_start_for_actuals",
                    "`start` (first day of month 1) is needed to place actual costs",
                ),
            )
        )
    if case.benefit_ramp.measured:
        problems.append(
            (
                ("benefit_ramp", "measured"),
                M_(
                    "case_benefit_ramp_measured",
                    "only the adoption ramp can be measured (the share of users working in "
                    "the CRM); the benefit ramp is an assumption",
                ),
            )
        )
    if case.adoption.measured and case.start is None:
        problems.append(
            (
                ("adoption", "measured"),
                M_(
                    "case_start_for_adoption",
                    "`start` (first day of month 1) is needed to place measured adoption",
                ),
            )
        )
    return problems


def _double_counting(first: str, second: str, kpi: str, outer: str | None) -> Message:
    """Two benefits valued from one KPI (`outer`: the KPI that includes it, if any)."""
    if outer:
        return M_(
            "case_double_counting_within",
            "double counting: benefits %(first)s and %(second)s both draw their value from "
            "the KPI %(kpi)s (%(outer)s includes %(kpi)s); keep one (or merge them)",
            first=repr(first),
            second=repr(second),
            kpi=repr(kpi),
            outer=repr(outer),
        )
    return M_(
        "case_double_counting",
        "double counting: benefits %(first)s and %(second)s both draw their value from the "
        "KPI %(kpi)s; keep one (or merge them)",
        first=repr(first),
        second=repr(second),
        kpi=repr(kpi),
    )


def parse_case(data: Any, source: str | Path = "case.yaml", index: LineIndex | None = None) -> Case:
    """Validate already-loaded YAML data; errors name `source`, the line and the field.

    The `ConfigurationError` carries a `CaseProblems` message: each problem's location,
    line and message (a stable code, worded in the reader's language).
    """
    index = index or LineIndex()
    try:
        case = Case.model_validate(data)
    except ValidationError as exc:
        found = case_error_messages(exc)
        raise ConfigurationError(case_invalid(found, index, source)) from None
    problems = case_problems(case)
    if problems:
        raise ConfigurationError(case_invalid(problems, index, source)) from None
    return case


def case_from_text(text: str, source: str | Path = "case.yaml") -> Case:
    """Validate case.yaml text; `ConfigurationError` naming the source, line and field.

    YAML aliases, depth and expanded size are limited by the loader (`crmroi.yaml_guard`):
    a few aliases nested can stand for an exponential amount of data ("billion laughs").
    """
    name = Path(source).name
    try:
        data, index = load_yaml_with_lines(text, str(source))
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        problem = getattr(exc, "problem", None) or str(exc)
        if mark is not None:
            raise ConfigurationError(
                M_(
                    "case_yaml_invalid_line",
                    "%(file)s line %(line)s: not valid YAML: %(problem)s",
                    file=name,
                    line=Num(mark.line + 1, grouped=False),
                    problem=str(problem),
                )
            ) from None
        raise ConfigurationError(
            M_(
                "case_yaml_invalid",
                "%(file)s: not valid YAML: %(problem)s",
                file=name,
                problem=str(problem),
            )
        ) from None
    if not isinstance(data, dict):
        raise ConfigurationError(
            M_("case_not_mapping", "%(file)s: a case file must be a YAML mapping", file=name)
        )
    refuse_long_case(data, name)
    return parse_case(data, source, index)


def load_case(path: str | Path) -> Case:
    """Read and validate a case file; `ConfigurationError` naming file, line and field."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        unreadable = M_(
            "case_file_unreadable", "cannot read the case file (%(reason)s)", reason=str(exc)
        )
        raise InputFileError(path, unreadable) from None
    return case_from_text(text, path)
