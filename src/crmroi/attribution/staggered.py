"""Difference in differences for a staggered roll-out: imputation estimator, exact intervals.

`difference_in_differences` estimates the CRM's effect on one KPI panel (unit x month):

- the effect: the imputation estimator (`imputation.py`): each live team-month
  against what the teams not yet live say it would have been; the overall effect
  is the mean over live team-months weighted by the KPI's denominator, and the
  event study gives it by months since go-live (the ramp);
- the 95% interval: randomisation inference over the orders in which the teams
  could have gone live (`randomization.py`), which holds with five teams where
  cluster-robust errors do not;
- the placebo test: the same estimator with go-live moved `placebo_months`
  earlier, on the months before the real go-live only; its p-value comes from
  the same reorderings, so it false-alarms at its nominal 5% when there is no
  pre-trend.

With `ratio=True` (calls per won deal) the effect is a ratio of imputed totals
(`ratio.py`): numerator and denominator imputed separately per unit of exposure,
the interval from the same reorderings of that statistic.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from datetime import date

import numpy as np
import pandas as pd

from crmroi.attribution import notes as said
from crmroi.attribution import ratio as ratios
from crmroi.attribution import reasons
from crmroi.attribution.imputation import Imputed, impute
from crmroi.attribution.naive import pooled_before_after, year_over_year
from crmroi.attribution.randomization import assignments, interval, p_value
from crmroi.attribution.ratio import Pick
from crmroi.attribution.results import (
    Attribution,
    AttributionError,
    EventStudy,
    check_panel,
)

ALPHA = 0.05
PLACEBO_MONTHS = 6


def _ordinal(day: date | pd.Timestamp) -> int:
    stamp = pd.Timestamp(day)
    return stamp.year * 12 + stamp.month - 1


def _run(
    values: np.ndarray,
    unit: np.ndarray,
    period: np.ndarray,
    weight: np.ndarray,
    starts: np.ndarray,
    orders: list[tuple[float, ...]],
    shift: int = 0,
    cluster: np.ndarray | None = None,
    anticipation: int = 0,
) -> list[Imputed | None]:
    """The estimator under each order of go-live months (None where not identified).

    An order gives a go-live month to each cluster (`cluster[unit]`; by default
    each unit is its own cluster). With `shift` > 0 (placebo), go-live is moved
    `shift` months earlier and rows live under the order are left out. Rows in the
    `anticipation` months before a unit's go-live under the order are left out.
    """
    out: list[Imputed | None] = []
    codes = (period - period.min()).astype(np.int64)
    of_row = unit if cluster is None else cluster[unit]
    for order in orders:
        start = np.asarray(order, dtype=float)[of_row]
        since = period - start
        keep = ~(since >= -anticipation) if shift else ~((since < 0) & (since >= -anticipation))
        try:
            out.append(
                impute(values[keep], unit[keep], codes[keep], weight[keep], since[keep] + shift)
            )
        except AttributionError:
            out.append(None)
    return out


def _interval(
    runs: list[Imputed | None], pick: Pick, theta: float, b0: float = 1.0
) -> tuple[float, float] | None:
    """Randomisation interval for the statistic `pick(run)` -> (on y, on D) or None;
    `theta`, `b0`: the actual order's estimates on y and on D."""
    found = [pick(r) for r in runs[1:] if r is not None]
    pairs = [p for p in found if p is not None]
    a = np.array([p[0] for p in pairs], dtype=float)
    b = np.array([p[1] for p in pairs], dtype=float)
    return interval(theta, a, b, ALPHA, b0)


def _carried(since: np.ndarray, carry: Sequence[float]) -> np.ndarray:
    """Share of the effect in each row's value: 1 from go-live on, `carry[k - 1]` k months
    before it, 0 before that and for units never live (NaN `since`)."""
    out = np.where(since >= 0, 1.0, 0.0)
    shares = np.asarray(carry, dtype=float)
    k = -since
    inside = (k >= 1) & (k <= shares.size)
    out[inside] = shares[k[inside].astype(np.int64) - 1]
    return out


def _horizon(k: int) -> Pick:
    def pick(run: Imputed) -> tuple[float, float] | None:
        if k not in run.by_horizon:
            return None
        v = run.by_horizon[k]
        return float(v[0]), float(v[1])

    return pick


def _overall(run: Imputed) -> tuple[float, float] | None:
    return float(run.overall[0]), float(run.overall[1])


def _ratio_panel(data: pd.DataFrame, name: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """num, den and exposure of a ratio KPI's checked panel (`ratio=True`)."""
    missing = [c for c in ("num", "den", "exposure") if c not in data.columns]
    if missing:
        raise AttributionError(reasons.panel_lacks(name, missing))
    num, den, exposure = (data[c].to_numpy(dtype=float) for c in ("num", "den", "exposure"))
    if not (np.isfinite(num).all() and np.isfinite(den).all() and (exposure > 0).all()):
        raise AttributionError(reasons.panel_lacks(name, ["num", "den", "exposure"]))
    return num, den, exposure


def difference_in_differences(
    panel: pd.DataFrame,
    go_live: Mapping[str, date | None],
    *,
    name: str,
    placebo_months: int = PLACEBO_MONTHS,
    weighting: str = "the KPI's denominator",
    clusters: Mapping[str, str] | None = None,
    anticipation: int = 0,
    carry: Sequence[float] = (),
    ratio: bool = False,
) -> Attribution:
    """The CRM's effect on a KPI from units going live at different times (see module).

    `clusters` maps each unit (e.g. a rep) to the group that goes live together (its
    team): every unit of a cluster must share its go-live date, and the reorderings
    give go-live dates to clusters. By default each unit is its own cluster.
    `anticipation`: months before each unit's go-live whose values may already carry
    the CRM's effect (a lapse dated before the departure it stands for); they are
    neither compared with nor estimated, under every reordering.
    `carry[k - 1]`: the share of the effect the values k months before go-live
    already carry (beyond the `anticipation` months; e.g. lapses dated at the last
    purchase, a share of which stand for departures after go-live). The estimator's
    own response to that dose is divided out: the effect is `theta / b0`, theta the
    estimate on the values and b0 (< 1) the same estimate on the dose (1 on live
    rows, the shares before go-live), and the interval tests `theta - delta b0`
    against the reorderings (see `randomization.py`).
    `ratio`: the KPI is num / den, the panel has columns `num`, `den` and `exposure`
    (what each is counted per, e.g. deals created), and the effect is the ratio of the
    live cells' sums less the ratio of their imputed sums (`ratio.py`); `weight` then
    serves the naive changes only (e.g. den). Not with `carry`.
    """
    if ratio and carry:
        raise ValueError("a ratio of imputed totals takes no carry")
    data = check_panel(panel, name)
    unknown = sorted(set(data["unit"]) - set(go_live))
    if unknown:
        raise AttributionError(reasons.units_without_go_live(name, [str(u) for u in unknown]))
    unit_names, unit = np.unique(data["unit"].astype(str).to_numpy(), return_inverse=True)
    period = np.array([_ordinal(p) for p in data["period"]], dtype=float)
    starts = np.array(
        [np.nan if go_live[u] is None else float(_ordinal(go_live[u])) for u in unit_names]  # type: ignore[arg-type]
    )
    y = data["value"].to_numpy(dtype=float)
    w = data["weight"].to_numpy(dtype=float)
    live = (period - starts[unit]) >= 0
    dose = _carried(period - starts[unit], carry)
    cluster = None
    cluster_starts = starts
    if clusters is not None:
        names, cluster = np.unique([str(clusters[u]) for u in unit_names], return_inverse=True)
        cluster_starts = np.full(len(names), np.nan)
        for c in range(len(names)):
            mine = starts[cluster == c]
            if not np.allclose(mine, mine[0], equal_nan=True):
                raise AttributionError(reasons.cluster_dates_differ(name, str(names[c])))
            cluster_starts[c] = mine[0]
    orders = assignments([float(s) for s in cluster_starts])
    pick_all: Pick = _overall
    pick_at: Callable[[int], Pick] = _horizon
    fit_weight, columns = w, np.column_stack([y, dose])
    if ratio:
        num, den, exposure = _ratio_panel(data, name)
        pick_all, pick_at = ratios.overall, ratios.at_horizon
        fit_weight, columns = exposure, ratios.ratio_columns(num, den, exposure, live)
    runs = _run(
        columns, unit, period, fit_weight, starts, orders,
        cluster=cluster, anticipation=anticipation,
    )  # fmt: skip
    actual = runs[0]
    stat = None if actual is None else pick_all(actual)
    if actual is None or stat is None:
        raise AttributionError(reasons.no_comparison(name))
    raw, b0 = stat
    if not b0 > 0:
        raise AttributionError(reasons.no_comparison(name))
    theta = raw / b0
    ci = _interval(runs, pick_all, raw, b0)
    usable_orders = sum(r is not None for r in runs)
    n_clusters = len(cluster_starts)
    if ci is None:
        raise AttributionError(reasons.too_few_orders(name, usable_orders, n_clusters))
    # the imputations' mean, less the part of the effect the compared months carried
    counterfactual = float(actual.counterfactual[0]) - theta * float(actual.counterfactual[1])
    if ratio:
        counterfactual = ratios.counterfactual(actual)
    by_unit = clusters is not None
    notes: list[str] = [
        said.imputation(actual.used, actual.dropped, by_unit),
        said.ratio_of_totals(by_unit) if ratio else said.weighted(by_unit, weighting),
        *([said.anticipation(anticipation)] if anticipation else []),
        said.interval(usable_orders, n_clusters, len(unit_names) if by_unit else None),
    ]
    study_months, effects, lows, highs, weights = [], [], [], [], []
    for k in sorted(actual.by_horizon):
        at = pick_at(k)
        on_y, on_dose = at(actual) or (float("nan"), 0.0)
        hci = _interval(runs, at, on_y, on_dose) if on_dose > 0 else None
        study_months.append(k)
        effects.append(on_y / on_dose if on_dose > 0 else float("nan"))
        lows.append(hci[0] if hci else float("nan"))
        highs.append(hci[1] if hci else float("nan"))
        weights.append(ratios.denominator_at(actual, k) if ratio else actual.weight[k])
    placebo_p = None
    if placebo_months > 0:
        before = ~live
        placebo_live = (period - starts[unit] + placebo_months >= 0) & before
        values = np.column_stack([y, placebo_live.astype(float)])
        if ratio:
            values = ratios.ratio_columns(num, den, exposure, placebo_live)
        pruns = _run(values[before], unit[before], period[before], fit_weight[before],
                     starts, orders, shift=placebo_months, cluster=cluster,
                     anticipation=anticipation)  # fmt: skip
        first = None if pruns[0] is None else pick_all(pruns[0])
        if pruns[0] is not None and first is not None:
            p0, p_est = pruns[0], first[0]
            others = [pick_all(r) for r in pruns[1:] if r is not None]
            a = np.array([o[0] for o in others if o is not None], dtype=float)
            placebo_p = p_value(p_est, a, np.zeros_like(a), 0.0)
            for k in sorted(p0.by_horizon):
                lead = k - placebo_months
                at = pick_at(k)
                on_y = (at(p0) or (float("nan"), 0.0))[0]
                hci = _interval(pruns, at, on_y) if on_y == on_y else None
                study_months.append(lead)
                effects.append(on_y)
                lows.append(hci[0] if hci else float("nan"))
                highs.append(hci[1] if hci else float("nan"))
                weights.append(0.0)
            notes.append(said.placebo(placebo_months, p_est, placebo_p))
            if placebo_p < ALPHA:
                notes.append(said.drifted(placebo_p))
    order = np.argsort(study_months, kind="stable")
    study = EventStudy(
        relative_month=[int(study_months[i]) for i in order],
        effect=[effects[i] for i in order],
        ci_low=[lows[i] for i in order],
        ci_high=[highs[i] for i in order],
        pretrend_p_value=placebo_p,
        weight=[weights[i] for i in order],
    )
    since = pd.Series(period - starts[unit], index=data.index)  # NaN: never live
    treated_units = [u for u, d in go_live.items() if d is not None]
    return Attribution(
        name=name,
        method="did",
        effect=theta,
        ci_low=ci[0],
        ci_high=ci[1],
        naive_change=pooled_before_after(data, since),
        effect_rel=theta / counterfactual if counterfactual else None,
        seasonal_naive_change=year_over_year(data[data["unit"].isin(treated_units)], since),
        notes=notes,
        event_study=study,
    )
