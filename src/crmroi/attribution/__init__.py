"""Attribution: how much of a KPI's change the CRM caused, net of the market.

`attribute` picks the strongest method the data allows and says why:
difference in differences for a phased roll-out (the imputation estimator
against teams not yet live, with randomisation-inference intervals), an interrupted time series
with market covariates for a single go-live, and the naive before/after change
(labelled as such) when nothing else is possible.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date
from typing import Literal

import pandas as pd

from crmroi.attribution import notes, reasons
from crmroi.attribution.its import interrupted_time_series
from crmroi.attribution.naive import naive_attribution
from crmroi.attribution.results import (
    Attribution,
    AttributionError,
    EventStudy,
    check_panel,
    company_series,
)
from crmroi.attribution.staggered import PLACEBO_MONTHS, difference_in_differences
from crmroi.messages import Said

__all__ = [
    "Attribution",
    "AttributionError",
    "Choice",
    "EventStudy",
    "attribute",
    "choose_method",
    "difference_in_differences",
    "interrupted_time_series",
    "naive_attribution",
]

Choice = Literal["auto", "did", "its", "naive"]
"""How to attribute: auto picks the strongest method the data allows."""


def choose_method(
    go_live: Mapping[str, date | None], *, has_covariates: bool
) -> tuple[Literal["did", "its", "naive"], str]:
    """The method the data supports, and the reason in plain words."""
    starts = {d for d in go_live.values() if d is not None}
    never = [u for u, d in go_live.items() if d is None]
    if len(go_live) >= 2 and (len(starts) >= 2 or (starts and never)):
        return "did", Said(notes.WHY_DID)
    if has_covariates:
        return "its", Said(notes.WHY_ITS)
    return "naive", Said(notes.WHY_NAIVE)


def attribute(
    panel: pd.DataFrame,
    go_live: Mapping[str, date | None],
    *,
    name: str,
    method: Choice = "auto",
    covariates: pd.DataFrame | None = None,
    placebo_months: int = PLACEBO_MONTHS,
    weighting: str = "the KPI's denominator",
    clusters: Mapping[str, str] | None = None,
    anticipation: int = 0,
    carry: Sequence[float] = (),
    weighted: bool = False,
    ratio: bool = False,
) -> Attribution:
    """Estimate the CRM's effect on one KPI panel (see the module docstring).

    `clusters`: the team of each unit when units are smaller than what goes live
    together (reps); the time series then compares each unit with its own months
    before go-live (`interrupted_time_series(by_unit=True)`); `anticipation` (difference in
    differences and time series): months before each go-live left out of the
    comparison; `carry` (the same two): the share of the effect the months before
    those already carry, divided out (see `difference_in_differences`); `weighted`
    (time series only): months weighted by the panel's summed weight (see
    `interrupted_time_series`); `ratio`: on difference in differences the effect as
    a ratio of imputed totals of the panel's `num` and `den` per `exposure` (see
    `difference_in_differences`); on the time series and naive paths each cell's value
    is its plain num / den, so the company series (cells weighted by `den`) is each
    month's ratio of the company's sums, not a mean of cells' bias-corrected values."""
    chosen, reason = choose_method(go_live, has_covariates=covariates is not None)
    if method != "auto":
        chosen, reason = method, notes.requested(method)
    if chosen == "did":
        result = difference_in_differences(
            panel,
            go_live,
            name=name,
            placebo_months=placebo_months,
            weighting=weighting,
            clusters=clusters,
            anticipation=anticipation,
            carry=carry,
            ratio=ratio,
        )
    else:
        if ratio and {"num", "den"} <= set(panel.columns):
            # a cell without a denominator has no ratio: missing, dropped like any missing value
            den = panel["den"].where(panel["den"] > 0)
            panel = panel.assign(value=panel["num"] / den)
        checked = check_panel(panel, name)
        series = company_series(checked)
        first = min((d for d in go_live.values() if d is not None), default=None)
        if first is None:
            raise AttributionError(reasons.no_go_live(name))
        if chosen == "its":
            result = interrupted_time_series(
                checked if clusters is not None else series,
                first,
                name=name,
                covariates=covariates,
                anticipation=anticipation,
                carry=carry,
                weighted=weighted,
                by_unit=clusters is not None,
            )
        else:
            result = naive_attribution(series, first, name=name)
    result.notes.insert(0, notes.method(result.method, reason))
    return result
