"""Median KPIs (sales cycle): order-statistic intervals and net changes on the log scale."""

from __future__ import annotations

import numpy as np

from crmroi.kpi import reasons
from crmroi.kpi.cell_plan import CellPlan, change, pooled_weights, unavailable
from crmroi.kpi.changes import MedianCells
from crmroi.kpi.definitions import KpiDefinition
from crmroi.kpi.intervals import Z95, normal_ci
from crmroi.kpi.report import KpiChange
from crmroi.kpi.stats import Labels
from crmroi.kpi.windows import DidGroup


def median_changes(
    d: KpiDefinition,
    plan: CellPlan,
    mc: MedianCells,
    groups: list[DidGroup],
    labels: Labels,
    by: str | None,
    supplied: float | None = None,
) -> list[KpiChange]:
    """Median KPIs: order-statistic intervals (every group's medians at once); net
    change on the log scale (delta method). `supplied`: the baseline (no interval)."""
    medians, ses = (x.reshape(-1, 2) for x in mc.per_cell(2 * len(plan.grps)))
    out = []
    for j in plan.order(labels):
        grp = int(plan.grps[j])
        label = None if by is None else labels.name(grp)
        (b, a), (se_b, se_a) = medians[j].tolist(), ses[j].tolist()
        b, se_b = (b, se_b) if supplied is None else (supplied, float("nan"))
        if np.isnan(b) or np.isnan(a):
            missing = "baseline" if np.isnan(b) else "after"
            out.append(unavailable(d, reasons.no_rows_in_window(missing), label))
            continue
        se = None if np.isnan(se_b) or np.isnan(se_a) else float(np.hypot(se_b, se_a))
        k = change(d, b, a, *normal_ci(a - b, se), label)
        nets: list[tuple[float, float, float, float]] = []  # net_rel, t_b, variance, weight
        for i, g in enumerate(groups):
            if by is not None and label not in g.treated:
                continue
            treated = list(plan.teams[i][: len(g.treated)]) if by is None else [grp]
            meds = [
                mc.median(plan.did_cells(i, side, p))
                for side in (treated, plan.controls(i))
                for p in (0, 1)
            ]
            ok = [(m, sd) for m, sd in meds if m is not None and sd is not None and m > 0]
            if len(ok) < 4:
                continue
            (tb, _), (ta, _), (cb, _), (ca, _) = ok
            var = sum((sd / m) ** 2 for m, sd in ok)
            weight = float(mc.count(plan.did_cells(i, treated, 0)))
            nets.append((float(np.log(ta / tb) - np.log(ca / cb)), tb, var, weight))
        if nets:
            w = pooled_weights([n[3] for n in nets])
            log_net = float(sum(wi * n[0] for wi, n in zip(w, nets, strict=True)))
            base = float(sum(wi * n[1] for wi, n in zip(w, nets, strict=True)))
            sd = float(np.sqrt(sum(wi**2 * n[2] for wi, n in zip(w, nets, strict=True))))
            k.net_change_rel = float(np.expm1(log_net))
            k.net_change_abs = k.net_change_rel * base
            k.net_ci_low = base * float(np.expm1(log_net - Z95 * sd))
            k.net_ci_high = base * float(np.expm1(log_net + Z95 * sd))
        out.append(k)
    return out
