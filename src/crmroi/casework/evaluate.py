"""A case's model and figures with the workspace's numbers read in.

`model_for` reads what the case uses (actual costs, measured changes, measured
adoption, lifetime value) and builds the pure model; `evaluate_case` adds the figures
(`crmroi.finance.evaluate.evaluate_model`).
"""

from __future__ import annotations

from typing import Any

from crmroi.casework.sources import (
    actual_costs,
    adoption_by_case_month,
    attributed_changes,
    clv_inputs,
    fx_rates_for,
    measured_adoption,
    measured_changes,
)
from crmroi.errors import ConfigurationError
from crmroi.finance.adoption import measured_then_plan
from crmroi.finance.case import Case
from crmroi.finance.evaluate import CaseResult, evaluate_model
from crmroi.finance.inputs import to_measured
from crmroi.finance.model import CaseModel, build_model
from crmroi.store import Store

__all__ = ["evaluate_case", "model_for"]


def model_for(case: Case, store: Store | None = None, **kpi_options: Any) -> CaseModel:
    """The case's model, reading actual costs, measured changes, measured adoption and
    lifetime value (`clv` inputs) from `store` if needed.

    A `measured` adoption ramp becomes the measured share of users working in the CRM
    (`crmroi.kpi.adoption`) in the months measured and the plan's ramp after them
    (`crmroi.finance.adoption.measured_then_plan`); the model's case holds those shares
    and its notes say which months were measured.

    `kpi_options` go to the KPI engine (default: 200 bootstrap resamples, seed 0).
    """
    costs = None
    measured = None
    supplied: list[str] = []
    adoption_notes: list[str] = []
    if store is not None and case.uses_measured_adoption:
        shares = measured_adoption(store)
        if shares is None:
            raise ConfigurationError(
                "the case's adoption is 'measured', but no go-live date is recorded in the "
                "workspace (record it, e.g. `crmroi kpis --go-live YYYY-MM-DD`)"
            )
        case, note = measured_then_plan(case, adoption_by_case_month(shares, case))
        adoption_notes.append(note)
    clv = clv_inputs(store, case) if store is not None and case.uses_clv else None
    if store is not None and case.uses_actuals:
        costs = actual_costs(store, case).with_run_rate
    if store is not None and case.uses_measured:
        options = {"bootstrap": 200, "seed": 0, **kpi_options}
        changes = measured_changes(store, **options)
        attributed = [
            d.kpi
            for d in case.benefits
            if d.change == "measured" and d.source == "attributed" and d.kpi
        ]
        if attributed:
            changes = {**changes, **attributed_changes(store, attributed)}
        measured = to_measured(case, changes)
        supplied = _supplied_notes(case, changes)
    use_fx = store is not None and case.foreign_currencies
    fx, notes = fx_rates_for(store, case) if store is not None and use_fx else ({}, [])
    model = build_model(
        case, actual_costs=costs, measured=measured, clv=clv.values() if clv else None, fx=fx
    )
    model.clv = clv
    model.notes = [*adoption_notes, *notes, *supplied]
    return model


def _supplied_notes(case: Case, changes: dict[str, Any]) -> list[str]:
    """One note per measured driver whose KPI's baseline is supplied, not measured."""
    out = []
    for d in case.benefits:
        k = changes.get(d.kpi or "")
        if k is None or d.change != "measured":
            continue
        if getattr(k, "baseline_basis", "measured") != "supplied":
            continue
        if k.ci_low is not None:  # attributed: a time series over the supplied months
            out.append(
                f"benefit {d.label!r}: the change of {d.kpi} is attributed over months before "
                f"go-live {k.baseline_label}, not measured; its interval is the time-series "
                "model's, not a sampling interval of the supplied figures"
            )
        else:
            out.append(
                f"benefit {d.label!r}: the change of {d.kpi} is taken against a baseline "
                f"{k.baseline_label}, not measured; it has no interval (a supplied monthly "
                "series carries no sampling information), so the simulation holds it fixed: "
                "give the driver a range (change: {low, likely, high}) to carry its "
                "uncertainty"
            )
    return out


def evaluate_case(
    case: Case,
    store: Store | None = None,
    *,
    runs: int | None = None,
    seed: int = 0,
    model: CaseModel | None = None,
) -> CaseResult:
    """Figures before and after risk adjustment, warnings, and a simulation of `runs` runs,
    for `model` or the model `model_for` reads from `store`."""
    return evaluate_model(model or model_for(case, store), runs=runs, seed=seed)
