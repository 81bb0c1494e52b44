"""Why calls per won deal reads low with no effect: the staggered estimator on simulated panels.

    .venv/bin/python benchmarks/calls_ratio_bias.py [--panels 1000] [--seed 7] [--intervals 0]

Each panel is the demo's phased roll-out reduced to what calls per won deal needs: five
teams (the demo's team weights and win-rate differences), going live in months 12, 14,
17, 20 and 28, cohorts of months 0-32; each team-month has Poisson(`DEALS` x weight)
deals, each with a win probability (0.25 + the team's shift + normal noise, sd 0.08),
an outcome, and Poisson calls of mean 15 (p / 2 + won / 2), as the demo's
`expected_calls`. Under `placebo` nothing changes at go-live, so the exact answer is 0;
under `phased` calls fall 20% and the win probability rises 0.05 on deals created
after their team's go-live, so the exact answer is -0.20 (beside it, the calibration's
realised truth, `realised_change` in attribution_calibration.py on expected calls).

Estimators, all through `crmroi.attribution.imputation.impute` as the product uses it:

- now: each cell's calls / won deals less its ratio bias (`ratio_bias_corrected`),
  weighted by won deals (the product until the ratio of imputed totals replaced it);
- raw: each cell's calls / won deals, weighted by won deals (before the correction);
- controls only: corrected cells before go-live, raw cells after it;
- now, no Poisson: as now, each deal's calls at their expected number (no count noise);
- two-part: calls per deal and won deals per deal imputed separately, weighted by
  deals; the effect is (live calls / live won) over (imputed calls / imputed won) - 1;
- product: the same through the product's code (`crmroi.attribution.ratio`, what
  `difference_in_differences(ratio=True)` estimates; the product since it replaced now).

Printed per design: the mean estimate and its Monte Carlo error over the panels. With
`--intervals N`, the first N panels of each design also go through the product's
`difference_in_differences(ratio=True)` with its randomisation interval: coverage of
the exact answer, intervals excluding 0 and mean width (relative, like the estimate).
"""

from __future__ import annotations

import argparse

import numpy as np
import pandas as pd

from crmroi.attribution import ratio as ratios
from crmroi.attribution.imputation import impute
from crmroi.attribution.staggered import difference_in_differences
from crmroi.kpi.cohorts import ratio_bias_corrected

GO_LIVE = np.array([12, 14, 17, 20, 28])  # crmroi.demo.company.GO_LIVE_MONTH
WEIGHT = np.array([0.23, 0.24, 0.17, 0.16, 0.20])  # TEAM_WEIGHT
WIN_FE = np.array([0.01, 0.03, -0.02, 0.00, -0.01])  # TEAM_WIN_FE
MONTHS = 33  # cohort months kept (the demo's maturity cut leaves about 33 of 36)
DEALS = 400.0  # deals created per month, all teams
CALLS = 15.0  # calls per won deal before go-live (crmroi.demo.effects.CALLS_PER_WON)


def _effect(values: np.ndarray, unit: np.ndarray, period: np.ndarray, weight: np.ndarray,
            since: np.ndarray) -> float:  # fmt: skip
    """The product's relative effect of one column of cell values (staggered.py)."""
    live = (since >= 0).astype(float)
    res = impute(np.column_stack([values, live]), unit, period, weight, since)
    theta = float(res.overall[0] / res.overall[1])
    return theta / float(res.counterfactual[0] - theta * res.counterfactual[1])


def panel(rng: np.random.Generator, effect: bool, interval: bool = False) -> dict[str, float]:
    """One simulated company: each estimator's relative effect, and the realised truth
    (with `interval`, the product's relative interval as `low` and `high`)."""
    unit = np.repeat(np.arange(5), MONTHS)
    period = np.tile(np.arange(MONTHS), 5)
    since = (period - GO_LIVE[unit]).astype(float)
    live = since >= 0
    n = rng.poisson(DEALS * WEIGHT[unit])
    cell = np.repeat(np.arange(n.size), n)
    p_cf = np.clip(0.25 + WIN_FE[unit][cell] + rng.normal(0.0, 0.08, cell.size), 0.02, 0.93)
    dose = live[cell].astype(float) if effect else np.zeros(cell.size)
    p = p_cf + 0.05 * dose
    u = rng.random(cell.size)
    won, won_cf = (u < p).astype(float), (u < p_cf).astype(float)
    mean_calls = CALLS * (0.5 * p + 0.5 * won) * (1.0 - 0.2 * dose)
    mean_calls_cf = CALLS * (0.5 * p_cf + 0.5 * won_cf)
    calls = rng.poisson(mean_calls).astype(float)

    def total(x: np.ndarray) -> np.ndarray:
        return np.bincount(cell, x, n.size)

    c, w, cw, d = total(calls), total(won), total(calls * won), n.astype(float)
    ok = w > 0
    corrected = ratio_bias_corrected(pd.Series(c), pd.Series(w), pd.Series(cw), pd.Series(d))
    args = (unit[ok], period[ok], w[ok], since[ok])
    raw = c[ok] / w[ok]
    smooth = total(mean_calls)
    smooth_corrected = ratio_bias_corrected(
        pd.Series(smooth), pd.Series(w), pd.Series(total(mean_calls * won)), pd.Series(d)
    )
    out = {
        "now": _effect(corrected.to_numpy()[ok], *args),
        "raw": _effect(raw, *args),
        "controls only": _effect(np.where(live[ok], raw, corrected.to_numpy()[ok]), *args),
        "now, no Poisson": _effect(smooth_corrected.to_numpy()[ok], *args),
    }
    has = d > 0
    res = impute(
        np.column_stack([c[has] / d[has], w[has] / d[has]]), unit[has], period[has], d[has],
        since[has],
    )  # fmt: skip
    actual = (res.overall[0] + res.counterfactual[0]) / (res.overall[1] + res.counterfactual[1])
    out["two-part"] = float(actual / (res.counterfactual[0] / res.counterfactual[1]) - 1.0)
    columns = ratios.ratio_columns(c[has], w[has], d[has], live[has])
    product = impute(columns, unit[has], period[has], d[has], since[has])
    stat = ratios.overall(product)
    assert stat is not None
    out["product"] = stat[0] / stat[1] / ratios.counterfactual(product)
    if interval:

        def month(t: int) -> pd.Timestamp:
            return pd.Timestamp(2023 + t // 12, t % 12 + 1, 1)

        frame = pd.DataFrame(
            {
                "unit": [f"team {u}" for u in unit[ok]],
                "period": [month(int(t)) for t in period[ok]],
                "value": raw,
                "weight": w[ok],
                "num": c[ok],
                "den": w[ok],
                "exposure": d[ok],
            }
        )
        go_live = {f"team {u}": month(int(g)).date() for u, g in enumerate(GO_LIVE)}
        result = difference_in_differences(frame, go_live, name="calls", ratio=True)
        assert result.effect_rel is not None
        scale = result.effect / result.effect_rel
        out["low"], out["high"] = result.ci_low / scale, result.ci_high / scale
    # the calibration's realised truth: sum(actual) / sum(won x cf / won_cf) - 1 over the
    # live cells the estimator uses (months before the last go-live)
    a, a_cf, w_cf = smooth, total(mean_calls_cf), total(won_cf)
    keep = live & (period < GO_LIVE.max()) & (w > 0) & (w_cf > 0)
    out["realised truth"] = float(a[keep].sum() / (w[keep] * a_cf[keep] / w_cf[keep]).sum() - 1)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--panels", type=int, default=1000, help="simulated companies per design")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--intervals", type=int, default=0, help="panels with intervals")
    args = parser.parse_args()
    rng = np.random.default_rng(args.seed)
    print(f"{'design':8s} {'estimator':15s} {'mean':>9s} {'+-mc':>8s}  exact answer")
    for design, effect, exact in (("placebo", False, 0.0), ("phased", True, -0.20)):
        runs = [panel(rng, effect, i < args.intervals) for i in range(args.panels)]
        names = ("now", "raw", "controls only", "now, no Poisson", "two-part", "product",
                 "realised truth")  # fmt: skip
        for name in names:
            x = np.array([r[name] for r in runs])
            mc = x.std(ddof=1) / np.sqrt(x.size)
            print(f"{design:8s} {name:15s} {x.mean():+9.4f} {mc:8.4f}  {exact:+.2f}")
        ends = [(r["low"], r["high"]) for r in runs if "low" in r]
        if ends:
            covered = sum(lo <= exact <= hi for lo, hi in ends)
            excluding = sum(not lo <= 0.0 <= hi for lo, hi in ends)
            width = float(np.mean([hi - lo for lo, hi in ends]))
            print(f"{design:8s} product interval: covers {exact:+.2f} in {covered}/{len(ends)}, "
                  f"excludes 0 in {excluding}/{len(ends)}, mean width {width:.4f}")  # fmt: skip


if __name__ == "__main__":
    main()
