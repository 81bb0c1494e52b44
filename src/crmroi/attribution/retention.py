"""The CRM's effect on retention, from the monthly lapse rate to annual retention points.

Retention is attributed customer by customer (`crmroi.kpi.lapses`): the methods
estimate the change `d` of the monthly lapse rate against its counterfactual level
`h` (the effect divided by the relative effect). In points of annual retention the
effect is `(1 - h - d) ** 12 - (1 - h) ** 12`; the interval's ends are mapped the
same way (the map is decreasing in `d`, so the ends swap). The counterfactual
level is taken as known (its own error is small beside the effect's).
"""

from __future__ import annotations

import math
from dataclasses import replace

from crmroi.attribution import notes as said
from crmroi.attribution import reasons
from crmroi.attribution.results import Attribution, AttributionError, EventStudy

MONTHS = 12


def _points(h: float, d: float) -> float:
    if d != d:
        return math.nan
    return (1.0 - h - d) ** MONTHS - (1.0 - h) ** MONTHS


def lapse_to_retention(result: Attribution, gap_months: int) -> Attribution:
    """`result` on the monthly lapse rate restated in points of annual retention."""
    if not result.effect_rel:
        raise AttributionError(reasons.no_lapse_rate(result.name))
    h = result.effect / result.effect_rel
    base = (1.0 - h) ** MONTHS
    effect = _points(h, result.effect)
    study = result.event_study
    if study is not None:
        study = EventStudy(
            relative_month=study.relative_month,
            effect=[_points(h, d) for d in study.effect],
            ci_low=[_points(h, d) for d in study.ci_high],
            ci_high=[_points(h, d) for d in study.ci_low],
            pretrend_p_value=study.pretrend_p_value,
            weight=study.weight,
        )
    seasonal = result.seasonal_naive_change
    notes = [
        *result.notes,
        said.retention_lapse(gap_months),
        said.retention_restated(result.effect, result.ci_low, result.ci_high, h, base),
    ]
    return replace(
        result,
        effect=effect,
        ci_low=_points(h, result.ci_high),
        ci_high=_points(h, result.ci_low),
        naive_change=_points(h, result.naive_change),
        effect_rel=effect / base if base else None,
        seasonal_naive_change=None if seasonal is None else _points(h, seasonal),
        notes=notes,
        event_study=study,
    )
