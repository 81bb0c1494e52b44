"""From a case to monthly cash flows by category, before and after risk adjustment.

Every benefit and cost becomes a `Line`: an amount (money per month, from the
line's inputs) times a deterministic shape over the periods 0..H (which month
it starts, growth, adoption and benefit ramps). Because the shape does not
depend on the uncertain inputs, the flows of many simulation runs are one matrix
product, amounts (runs x lines) @ shapes (lines x periods).

No double counting: each benefit line declares the KPI it draws its value from
(`Driver.KPI`, or `kpi:` on a custom driver or an avoided loss), and `Case`
refuses a case in which two lines claim the same KPI. Time saved is valued as
time (loaded cost x productive share) and never also as the revenue that time
might bring; revenue effects are valued at gross margin.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Literal

import numpy as np

from crmroi.errors import ConfigurationError
from crmroi.finance.case import AvoidedLoss, Case, CostItem, Ramp
from crmroi.finance.cashflow import CashFlowTable, FloatArray
from crmroi.finance.drivers import Num, _Driver
from crmroi.finance.estimates import Estimate, Range, likely

if TYPE_CHECKING:
    from crmroi.finance.inputs import ClvInputs

__all__ = [
    "CaseModel",
    "Line",
    "MeasuredChange",
    "build_model",
    "driver_ramp",
    "driver_shape",
    "ramp_shares",
]


MEASURED_LEVEL = 0.95  # the share of a measured change's draws inside its interval


@dataclass(frozen=True)
class MeasuredChange:
    """A KPI change measured on a workspace, in the driver's unit (abs or rel)."""

    value: float
    low: float | None = None
    high: float | None = None

    def estimate(self) -> Estimate:
        """The change as a number, or its 95% interval as a range (`level` 0.95: the
        simulation draws it with the measured spread, not inside the interval only)."""
        if self.low is None or self.high is None:
            return self.value
        lo, hi = sorted((self.low, self.high))
        if not lo <= self.value <= hi:
            return self.value
        return Range(low=lo, likely=self.value, high=hi, level=MEASURED_LEVEL)


@dataclass
class Line:
    """One benefit or cost: amount(inputs) x shape, money per month."""

    name: str
    side: Literal["benefit", "cost"]
    category: str  # a crm_costs category for costs; "driver" or "avoided_loss" for benefits
    shape: FloatArray
    risk: float
    inputs: dict[str, Estimate] = field(default_factory=dict)
    formula: Callable[[Mapping[str, Num]], Num] | None = None
    kpi: str | None = None
    driver: _Driver | None = None
    measured: frozenset[str] = frozenset()
    """Inputs read as `measured` from a workspace (the rest are the case's estimates)."""

    def key(self, name: str) -> str:
        """The global name of one of this line's inputs, e.g. 'win rate uplift.change'."""
        return f"{self.name}.{name}"

    def amount(self, draws: Mapping[str, FloatArray] | None = None) -> Num:
        """The line's amount: its formula of its inputs (drawn ones from `draws`)."""
        x: dict[str, Num] = {}
        for name, est in self.inputs.items():
            key = self.key(name)
            x[name] = draws[key] if draws is not None and key in draws else likely(est)
        return 1.0 if self.formula is None else self.formula(x)


@dataclass
class CaseModel:
    """The lines of a case and how to turn amounts into flows.

    `clv` is the lifetime-value fit the case's `clv` inputs were read from, if any
    (`crmroi.finance.inputs.ClvInputs`), kept for the reports.
    """

    case: Case
    lines: list[Line]
    clv: ClvInputs | None = None
    notes: list[str] = field(default_factory=list)
    """What the reader should know about inputs read from elsewhere (exchange rates)."""
    fx: dict[str, FloatArray] = field(default_factory=dict)
    """Case currency per unit of each foreign cost currency by period 0..H (workspace)."""

    @property
    def horizon(self) -> int:
        return self.case.horizon_months

    @property
    def n_periods(self) -> int:
        return self.case.horizon_months + 1

    def inputs(self) -> dict[str, Estimate]:
        """Every input of every line by global name."""
        return {line.key(n): est for line in self.lines for n, est in line.inputs.items()}

    def ranged_inputs(self) -> dict[str, Range]:
        """The inputs given as ranges (what the simulation draws)."""
        return {k: v for k, v in self.inputs().items() if isinstance(v, Range)}

    def _measured(self) -> Iterator[tuple[str, Estimate]]:
        """Every measured input, by global name, with its estimate."""
        for line in self.lines:
            for n, est in line.inputs.items():
                if n in line.measured:
                    yield line.key(n), est

    def measured_ranges(self) -> dict[str, Range]:
        """The measured inputs that came with an interval, by global name."""
        return {key: est for key, est in self._measured() if isinstance(est, Range)}

    def measured_held(self) -> tuple[str, ...]:
        """The measured inputs that came without an interval (they enter as numbers), by
        global name, sorted."""
        return tuple(sorted(key for key, est in self._measured() if not isinstance(est, Range)))

    def shapes(self) -> FloatArray:
        """lines x periods matrix of shapes."""
        return np.vstack([line.shape for line in self.lines])

    def signs(self, risk_adjusted: bool) -> FloatArray:
        """+1 x (1 - risk) for benefits, -1 x (1 + risk) for costs (or +-1 unadjusted)."""
        out = np.empty(len(self.lines))
        for i, line in enumerate(self.lines):
            r = line.risk if risk_adjusted else 0.0
            out[i] = (1.0 - r) if line.side == "benefit" else -(1.0 + r)
        return out

    def amounts(self, draws: Mapping[str, FloatArray] | None = None, runs: int = 1) -> FloatArray:
        """runs x lines matrix of amounts (money per month before the shapes)."""
        out = np.empty((runs, len(self.lines)))
        for i, line in enumerate(self.lines):
            out[:, i] = line.amount(draws)
        return out

    def table(self, risk_adjusted: bool = False) -> CashFlowTable:
        """Deterministic monthly flows (inputs at their most likely values) by line."""
        amounts = self.amounts()[0]
        signs = np.abs(self.signs(risk_adjusted))
        out = CashFlowTable(self.horizon)
        for line, a, s in zip(self.lines, amounts, signs, strict=True):
            target = out.benefits if line.side == "benefit" else out.costs
            key = line.name if line.side == "benefit" else line.category
            flows = a * s * line.shape
            target[key] = target[key] + flows if key in target else flows
        return out

    def revenue_flows(self, risk_adjusted: bool = False) -> tuple[FloatArray, FloatArray]:
        """(revenue change, its benefit) of the drivers that change revenue, money per
        month over periods 0..H: revenue = the driver's value / gross margin (see
        `_Driver.revenue`), benefit = the value itself, inputs at their most likely
        values. Cost savings, avoided losses and custom lines add nothing to either."""
        revenue, value = np.zeros(self.n_periods), np.zeros(self.n_periods)
        for line in self.lines:
            d = line.driver
            if line.side != "benefit" or d is None:
                continue
            x = {k: likely(v) for k, v in line.inputs.items()}
            rev = d.revenue(x)
            if rev is None:
                continue
            factor = (1.0 - line.risk) if risk_adjusted else 1.0
            revenue += rev * factor * line.shape
            value += float(d.value(x)) * factor * line.shape
        return revenue, value


def ramp_shares(ramp: Ramp, months: int) -> FloatArray:
    """Share for months 1..`months` after go-live (fractions)."""
    k = np.arange(months, dtype=np.float64)
    if ramp.by_month:
        vals = np.asarray(ramp.by_month, dtype=np.float64)
        return vals[np.minimum(k, vals.size - 1).astype(int)]
    if ramp.months <= 1:
        return np.full(months, ramp.end)
    frac = np.minimum(k / (ramp.months - 1), 1.0)
    return ramp.start + (ramp.end - ramp.start) * frac


def _benefit_shape(case: Case, ramp: Ramp, adoption: FloatArray | None = None) -> FloatArray:
    """Adoption x `ramp` from go-live over periods 0..H; `adoption` (shares over periods
    0..H) replaces the case's adoption ramp when given."""
    shape = np.zeros(case.horizon_months + 1)
    first = case.go_live_month
    n = case.horizon_months - first + 1
    if n > 0:
        adopt = ramp_shares(case.adoption, n) if adoption is None else adoption[first:]
        shape[first:] = adopt * ramp_shares(ramp, n)
    return shape


def driver_ramp(case: Case, d: _Driver) -> Ramp:
    """The benefit ramp of driver `d`: its own `ramp_months` or the case's."""
    if d.ramp_months is not None:
        return Ramp(start=1.0 / d.ramp_months, end=1.0, months=d.ramp_months)
    return case.benefit_ramp


def driver_shape(case: Case, d: _Driver, adoption: FloatArray | None = None) -> FloatArray:
    """Share of `d`'s full effect booked in each period 0..H: adoption x benefit ramp
    (`adoption`, shares over 0..H, in place of the case's ramp when given)."""
    return _benefit_shape(case, driver_ramp(case, d), adoption)


def _cost_shape(case: Case, item: CostItem) -> FloatArray:
    shape = np.zeros(case.horizon_months + 1)
    start = item.start_month
    if start > case.horizon_months:
        return shape
    if item.kind == "one_time":
        shape[start] = 1.0
        return shape
    end = min(
        item.end_month if item.end_month is not None else case.horizon_months, case.horizon_months
    )
    m = np.arange(start, end + 1)
    shape[start : end + 1] = (1.0 + item.growth) ** ((m - start) // 12)
    return shape


def _loss_shape(case: Case, loss: AvoidedLoss) -> FloatArray:
    shape = _benefit_shape(case, Ramp())
    m = np.arange(case.horizon_months + 1)
    grow = (1.0 + loss.growth) ** (np.maximum(m - loss.start_month, 0) / 12.0)
    return np.where(m >= loss.start_month, shape * grow, 0.0)


def _driver_line(
    case: Case,
    d: _Driver,
    measured: Mapping[str, MeasuredChange],
    clv: Mapping[str, float] | None = None,
) -> Line:
    inputs: dict[str, Estimate] = {}
    read: set[str] = set()
    for name, est in d.estimates().items():
        if est is None and name == "users":
            est = float(case.users)
        if est == "clv":
            quantity = d.CLV_INPUTS[name]
            if clv is None or quantity not in clv:
                raise ConfigurationError(
                    f"benefit {d.label!r}: {name} is 'clv' but no lifetime-value model was "
                    "fitted (give --workspace with orders, or estimate it)"
                )
            est = float(clv[quantity])
        if est == "measured":
            kpi = d.kpi
            if kpi is None or kpi not in measured:
                raise ConfigurationError(
                    f"benefit {d.label!r}: change is 'measured' but no measured change of "
                    f"{kpi!r} is available (give --workspace, or estimate it)"
                )
            est = measured[kpi].estimate()
            read.add(name)
        assert not isinstance(est, str) and est is not None
        inputs[name] = est
    risk = d.risk_adjustment if d.risk_adjustment is not None else case.risk.benefits
    return Line(
        name=d.label,
        side="benefit",
        category="driver",
        shape=driver_shape(case, d),
        risk=risk,
        inputs=inputs,
        formula=d.value,
        kpi=d.kpi,
        driver=d,
        measured=frozenset(read),
    )


def _cost_lines(
    case: Case,
    actual_costs: Mapping[str, FloatArray] | None,
    fx: Mapping[str, FloatArray] | None = None,
) -> list[Line]:
    items = case.costs
    lines: list[Line] = []
    if items == "actual":
        if actual_costs is None:
            raise ConfigurationError("the case's costs are 'actual': give --workspace")
        for category, flows in actual_costs.items():
            lines.append(_actual_line(case, category, category, flows, case.risk.costs))
        return lines
    for i, item in enumerate(items):
        name = item.name or f"{item.category} {i + 1}"
        risk = item.risk_adjustment if item.risk_adjustment is not None else case.risk.costs
        if item.amount == "actual":
            if actual_costs is None:
                raise ConfigurationError(
                    f"cost {name!r} is 'actual': give --workspace to read crm_costs"
                )
            flows = actual_costs.get(item.category, np.zeros(case.horizon_months + 1))
            lines.append(_actual_line(case, name, item.category, flows, risk))
            continue
        users = float(case.users) if item.per_user else 1.0
        shape = _cost_shape(case, item)
        cur = (item.currency or case.currency).upper()
        if cur != case.currency.upper():
            rates = (fx or {}).get(cur)
            if rates is None:
                raise ConfigurationError(
                    f"cost {name!r} is in {cur}, the case in {case.currency}: give --workspace "
                    f"with fx_rates for {cur}"
                )
            shape = shape * rates[: shape.size]

        def formula(x: Mapping[str, Num], users: float = users) -> Num:
            return x["amount"] * users

        lines.append(
            Line(
                name=name,
                side="cost",
                category=item.category,
                shape=shape,
                risk=risk,
                inputs={"amount": item.amount},
                formula=formula,
            )
        )
    return lines


def _actual_line(case: Case, name: str, category: str, flows: FloatArray, risk: float) -> Line:
    shape = np.zeros(case.horizon_months + 1)
    n = min(flows.size, shape.size)
    shape[:n] = flows[:n]
    return Line(name=name, side="cost", category=category, shape=shape, risk=risk)


def build_model(
    case: Case,
    *,
    actual_costs: Mapping[str, FloatArray] | None = None,
    measured: Mapping[str, MeasuredChange] | None = None,
    clv: Mapping[str, float] | None = None,
    fx: Mapping[str, FloatArray] | None = None,
) -> CaseModel:
    """The lines of `case`; `actual_costs` (category -> flows over periods 0..H),
    `measured` (KPI name -> change), `clv` (lifetime-value quantity -> number, see
    `ClvQuantity`) and `fx` (currency -> case currency per unit over periods 0..H) come
    from a workspace when the case uses them. A `measured` adoption ramp must have been
    read already (`crmroi.casework.model_for`)."""
    if case.adoption.measured:
        raise ConfigurationError(
            "the case's adoption is 'measured': give --workspace to read the measured share "
            "of users working in the CRM"
        )
    lines = [_driver_line(case, d, measured or {}, clv) for d in case.benefits]
    for loss in case.do_nothing:
        risk = loss.risk_adjustment if loss.risk_adjustment is not None else case.risk.benefits
        lines.append(
            Line(
                name=loss.name,
                side="benefit",
                category="avoided_loss",
                shape=_loss_shape(case, loss),
                risk=risk,
                inputs={"amount": loss.amount},
                formula=lambda x: x["amount"],
                kpi=loss.kpi,
            )
        )
    lines += _cost_lines(case, actual_costs, fx)
    if not lines:
        raise ConfigurationError("the case has neither costs nor benefits")
    return CaseModel(case, lines, fx=dict(fx or {}))
