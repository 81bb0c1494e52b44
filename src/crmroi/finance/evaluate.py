"""Evaluate a case model: flows, figures at 12 months and the horizon, warnings, simulation.

This is what `crmroi roi` prints; `CaseResult.to_json()` is the `roi --format json`
document of the command-line contract (see ARCHITECTURE.md), extended with
`simple_roi`, `irr_monthly`, the 12-month view, monthly flows, warnings,
intangible benefits and risks.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from crmroi.finance.case import Case
from crmroi.finance.cashflow import CashFlowTable
from crmroi.finance.measured_range import MeasuredRange, measured_range
from crmroi.finance.model import CaseModel
from crmroi.finance.roi import RoiVariant, roi_variants
from crmroi.finance.sanity import Check, Warning_, case_checks
from crmroi.finance.simulation import SHORT_HORIZON, SimulationResult, simulate
from crmroi.finance.summary import Summary, summarise
from crmroi.finance.tco import TcoRollup, tco_rollup

__all__ = ["CaseResult", "evaluate_model"]


@dataclass
class CaseResult:
    """Everything the roi command reports about one case."""

    case: Case
    model: CaseModel
    table: CashFlowTable
    table_risk: CashFlowTable
    summary: Summary
    summary_risk: Summary
    short: Summary
    short_risk: Summary
    checks: list[Check] = field(default_factory=list)
    warnings: list[Warning_] = field(default_factory=list)
    simulation: SimulationResult | None = None
    roi_ways: dict[int, dict[bool, list[RoiVariant]]] = field(default_factory=dict)
    """ROI written five ways by horizon (12, H) and risk adjustment (False, True)."""
    tco: TcoRollup | None = None
    measured_range: MeasuredRange | None = None
    """The NPV's range on the measured changes' uncertainty alone (None: none measured)."""

    def headline(self, horizon: int, risk_adjusted: bool = False) -> RoiVariant:
        """The ROI figure the case leads with (`Case.headline_roi`) at `horizon`."""
        ways = self.roi_ways[horizon][risk_adjusted]
        return next(v for v in ways if v.kind == self.case.headline_roi)

    def to_json(self) -> dict[str, Any]:
        """The `roi --format json` document."""
        out: dict[str, Any] = {"name": self.case.name, "currency": self.case.currency}
        out.update(self.summary.as_dict())
        out["risk_adjusted"] = self.summary_risk.as_dict()
        out["horizons"] = {
            str(s.horizon_months): {**s.as_dict(), "risk_adjusted": r.as_dict()}
            for s, r in ((self.short, self.short_risk), (self.summary, self.summary_risk))
        }
        out["monthly"] = {
            "benefits": {k: v.round(2).tolist() for k, v in self.table.benefits.items()},
            "costs": {k: v.round(2).tolist() for k, v in self.table.costs.items()},
            "risk_adjusted_net": self.table_risk.net().round(2).tolist(),
        }
        out["notes"] = list(self.model.notes)
        out["headline_roi"] = self.case.headline_roi
        out["roi_ways"] = {
            str(h): {
                "plain": [v.as_dict() for v in by_risk[False]],
                "risk_adjusted": [v.as_dict() for v in by_risk[True]],
            }
            for h, by_risk in self.roi_ways.items()
        }
        if self.tco is not None:
            out["tco"] = self.tco.as_dict()
        if self.model.clv is not None:
            out["clv"] = self.model.clv.as_dict()
        out["checks"] = [c.as_dict() for c in self.checks]
        out["warnings"] = [w.as_dict() for w in self.warnings]
        out["intangible_benefits"] = list(self.case.intangible_benefits)
        out["risks"] = list(self.case.risks)
        if self.simulation is not None:
            out["simulation"] = self.simulation.as_dict()
        if self.measured_range is not None:
            out["measured_range"] = self.measured_range.as_dict()
        return out


def evaluate_model(model: CaseModel, *, runs: int | None = None, seed: int = 0) -> CaseResult:
    """Figures before and after risk adjustment, warnings, and a simulation of `runs` runs.

    The model already holds whatever the case read from a workspace
    (`crmroi.casework.model_for` builds it).
    """
    case = model.case
    table, table_risk = model.table(), model.table(risk_adjusted=True)
    rate = case.discount_rate
    short_n = min(SHORT_HORIZON, case.horizon_months)
    full, full_risk = summarise(table, rate), summarise(table_risk, rate)
    short = summarise(table.truncated(short_n), rate)
    short_risk = summarise(table_risk.truncated(short_n), rate)
    checks = case_checks(model, short, full)
    result = CaseResult(
        case=case,
        model=model,
        table=table,
        table_risk=table_risk,
        summary=full,
        summary_risk=full_risk,
        short=short,
        short_risk=short_risk,
        checks=checks,
        warnings=[Warning_(c.rule, c.text) for c in checks if not c.passed],
    )
    for n in sorted({short_n, case.horizon_months}):
        result.roi_ways[n] = {}
        for risk, t in ((False, table), (True, table_risk)):
            revenue, value = model.revenue_flows(risk_adjusted=risk)
            result.roi_ways[n][risk] = roi_variants(t.truncated(n), revenue, value, rate)
    result.tco = tco_rollup(table)
    result.measured_range = measured_range(model, seed=seed)
    if runs:
        result.simulation = simulate(model, runs, seed)
    return result
