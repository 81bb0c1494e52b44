"""How precisely any estimator robust to the market can measure the demo's win-rate effect,
and what that precision does to the business case's NPV (issue 14, item 8).

    .venv/bin/python benchmarks/win_rate_bound.py --seeds 8 --scale 1 \
        [--calibration ppr_indep.json] [--simulate 2000]

Why: with every driver `measured`, the NPV of `examples/case.yaml` on a scale-1 demo
company lies a median 22% from its NPV at the true effects (item 8 asks for 15%), and
most of the gap is the win rate's. This computes, from each demo company's own deals,
the smallest standard error the win-rate effect can have on the staggered path:

- the panel the staggered path uses: the phased demo's closed deals per team and
  creation month (exposure "created"), months whose deals have mostly closed
  (`crmroi.kpi.cohorts.mature_until`), a team's months from its go-live on treated;
- each cell's binomial variance p (1 - p) / n, p the team's rate in its months before
  go-live (the deals' own noise, which no estimator removes);
- the estimand the product reports: the mean effect over treated team-months that have
  a team not yet live in the same month, weighted by closed deals;
- the model item 4 asks for: team effects plus a free effect for every month (any
  market movement), fitted on the not-yet-live rows.

Under that model the imputation estimator fitted by generalised least squares is the
best linear unbiased one (Borusyak, Jaravel & Spiess 2024, theorem 2): no estimator
that stays unbiased whatever the market did and however the effect ramps can have a
smaller variance. The product fits by closed deals (weights n, GLS when p is equal
across teams); both variances are computed here in closed form, by a reference
implementation independent of `crmroi.attribution` (with `--simulate N`, also checked
against the product's `impute` on N binomial panels).

Then the case: the NPV's change per point of win rate (every other driver at its true
effect, `examples/case.yaml`), so a win-rate miss of standard deviation s alone moves
the NPV by a median 0.674 s x that change. With `--calibration` (a JSON of
`attribution_calibration.py --npv`), the observed spread of the win-rate misses and
the observed median gap the win rate alone causes are printed beside the bound.
"""

from __future__ import annotations

import argparse
import json
import statistics
from pathlib import Path

import numpy as np
import pandas as pd

EXAMPLE = Path(__file__).resolve().parents[1] / "examples" / "case.yaml"
TRUE_EFFECTS = {
    "win_rate": 0.05,
    "deal_size": 0.08,
    "time_saved": -0.06,
    "retention": 0.04,
    "service_cost": 0.0,
}  # the demo's injected effects, as `truth.json` states them
NORMAL_MEDIAN_ABS = 0.6745  # median of |Z| for a standard normal Z


def cells(seed: int, scale: float) -> pd.DataFrame:
    """Closed deals per team and mature creation month: unit, month, n, won, since."""
    from crmroi.demo.company import DESIGNS, START, TEAMS, make_reps, make_world
    from crmroi.demo.sales import make_sales
    from crmroi.kpi.cohorts import mature_until

    plan = DESIGNS["phased"]
    world = make_world(seed, scale, plan)
    reps = make_reps(world, world.rng())
    deals = make_sales(world, reps).tables["deals"].to_pandas()
    team = reps.table.to_pandas().set_index("rep_id")["team"]
    frame = pd.DataFrame(
        {
            "unit": deals["owner_rep_id"].map(team).map({t: i for i, t in enumerate(TEAMS)}),
            "created": deals["created_at"],
            "closed": deals["closed_at"],
            "is_closed": deals["is_closed"].astype(bool),
            "won": deals["is_won"].fillna(False).astype(float),
        }
    )
    cut = mature_until(frame)
    start = pd.Timestamp(START)
    frame = frame[frame["is_closed"] & (frame["created"] >= start)]
    if cut is not None:
        frame = frame[frame["created"] < cut]
    month = (frame["created"].dt.year - start.year) * 12 + frame["created"].dt.month - start.month
    grouped = frame.assign(month=month).groupby(["unit", "month"])["won"].agg(["size", "sum"])
    out = grouped.reset_index().rename(columns={"size": "n", "sum": "won"})
    go_live = np.asarray(plan.go_live_month)[out["unit"].to_numpy()]
    out["since"] = np.where(out["month"] >= go_live, out["month"] - go_live, np.nan)
    return out


def _dummies(
    unit: np.ndarray, month: np.ndarray, units: list[int], months: list[int]
) -> np.ndarray:
    """Team effects and month effects (the first month as the base)."""
    x = np.zeros((len(unit), len(units) + len(months) - 1))
    for j, u in enumerate(units):
        x[unit == u, j] = 1.0
    for j, m in enumerate(months[1:]):
        x[month == m, len(units) + j] = 1.0
    return x


def bound(panel: pd.DataFrame) -> tuple[float, float, int]:
    """Standard errors (points of win rate) of the imputation estimate: fitted by closed
    deals (the product) and by inverse variance (GLS, the best linear unbiased); and
    the number of treated team-months the estimate uses."""
    unit, month = panel["unit"].to_numpy(), panel["month"].to_numpy()
    n = panel["n"].to_numpy(dtype=float)
    live = panel["since"].notna().to_numpy()
    control = ~live
    months = sorted(set(month[control]))
    units = sorted(set(unit[control]))
    usable = live & np.isin(month, months) & np.isin(unit, units)
    rate = panel[control].groupby("unit")["won"].sum() / panel[control].groupby("unit")["n"].sum()
    p = rate.reindex(unit).to_numpy()
    variance = p * (1 - p) / n
    c = n[usable] / n[usable].sum()
    x_control = _dummies(unit[control], month[control], units, months)
    a = c @ _dummies(unit[usable], month[usable], units, months)
    own = float(c**2 @ variance[usable])  # the treated deals' own counterfactual noise

    def imputation_variance(fit_weight: np.ndarray) -> float:
        xtw = x_control.T * fit_weight
        solve = np.linalg.solve(xtw @ x_control, xtw)  # beta = solve @ y_control
        row = a @ solve
        return float(row**2 @ variance[control])

    by_deals = own + imputation_variance(n[control])
    gls = own + imputation_variance(1.0 / variance[control])
    return float(np.sqrt(by_deals)), float(np.sqrt(gls)), int(usable.sum())


def simulated(panel: pd.DataFrame, runs: int, seed: int) -> float:
    """Standard deviation of the product's `impute` over binomial panels with no effect."""
    from crmroi.attribution.imputation import impute

    control = panel["since"].isna()
    rate = panel[control].groupby("unit")["won"].sum() / panel[control].groupby("unit")["n"].sum()
    n = panel["n"].to_numpy()
    p = rate.reindex(panel["unit"]).to_numpy()
    rng = np.random.default_rng(seed)
    values = rng.binomial(n[:, None], p[:, None], size=(len(n), runs)) / n[:, None]
    run = impute(
        values,
        panel["unit"].to_numpy(),
        panel["month"].to_numpy(),
        n.astype(float),
        panel["since"].to_numpy(dtype=float),
    )
    return float(np.std(run.overall))


def npv_per_point() -> tuple[float, float]:
    """NPV (USD) of examples/case.yaml at the true effects, and its change per point
    (0.01) of win rate, every other driver at its true effect."""
    from crmroi.finance.case import load_case
    from crmroi.finance.evaluate import evaluate_model
    from crmroi.finance.model import build_model

    case = load_case(EXAMPLE)

    def npv(win_rate: float) -> float:
        effects = {**TRUE_EFFECTS, "win_rate": win_rate}
        benefits = [d.model_copy(update={"change": effects[d.kind]}) for d in case.benefits]
        model = build_model(case.model_copy(update={"benefits": benefits}), measured={})
        return float(evaluate_model(model).summary.npv)

    at_truth = npv(TRUE_EFFECTS["win_rate"])
    return at_truth, npv(TRUE_EFFECTS["win_rate"] + 0.01) - at_truth


def observed(path: Path) -> tuple[float, float, int]:
    """From a calibration JSON: sd of the win-rate misses, median NPV gap the win rate
    alone causes (measured NPV less the NPV with only the win rate exact), companies."""
    gaps = json.loads(path.read_text(encoding="utf-8"))["npv"]
    misses = [g["changes"]["win_rate"][0] - g["changes"]["win_rate"][1] for g in gaps]
    alone = [abs(g["measured"] - g["one_true"]["win_rate"]) / abs(g["true"]) for g in gaps]
    return float(np.std(misses)), statistics.median(alone), len(gaps)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=8)
    parser.add_argument("--first-seed", type=int, default=1)
    parser.add_argument("--scale", type=float, default=1.0)
    parser.add_argument("--simulate", type=int, default=0, help="binomial panels per seed")
    parser.add_argument("--calibration", type=Path, help="attribution_calibration --npv JSON")
    args = parser.parse_args()

    product, gls, checks = [], [], []
    for seed in range(args.first_seed, args.first_seed + args.seeds):
        panel = cells(seed, args.scale)
        se, se_gls, used = bound(panel)
        product.append(se)
        gls.append(se_gls)
        line = f"seed {seed}: {used} treated team-months, se {se:.4f} (GLS {se_gls:.4f})"
        if args.simulate:
            checks.append(simulated(panel, args.simulate, seed))
            line += f", impute on {args.simulate} binomial panels: sd {checks[-1]:.4f}"
        print(line)
    # a miss's spread over companies: root mean square of the companies' standard errors
    sd = float(np.sqrt(np.mean(np.square(product))))
    sd_gls = float(np.sqrt(np.mean(np.square(gls))))
    at_truth, per_point = npv_per_point()
    share = per_point / abs(at_truth)
    gap = NORMAL_MEDIAN_ABS * sd * 100 * share
    gap_gls = NORMAL_MEDIAN_ABS * sd_gls * 100 * share
    print(f"\nscale {args.scale:g}, {args.seeds} companies:")
    print(f"  smallest sd of the win-rate effect: {sd:.4f} as fitted, {sd_gls:.4f} by GLS")
    if checks:
        check = float(np.sqrt(np.mean(np.square(checks))))
        print(f"  the product's impute on binomial panels: sd {check:.4f}")
    print(f"  NPV at the true effects {at_truth:,.0f} USD; one point of win rate moves it "
          f"{per_point:,.0f} USD ({100 * share:.1f}%)")  # fmt: skip
    print(f"  median NPV gap from the win rate alone at that sd: {100 * gap:.1f}% "
          f"(GLS {100 * gap_gls:.1f}%); item 8 asks for 15% with every driver "
          "measured")  # fmt: skip
    needed = args.scale * (gap_gls / 0.15) ** 2
    print(f"  smallest scale at which the win rate alone leaves 15% (sd falls as "
          f"1/sqrt(scale); the other drivers' misses come on top): {needed:.1f}")  # fmt: skip
    if args.calibration:
        miss_sd, alone, companies = observed(args.calibration)
        print(f"  observed ({args.calibration.name}, {companies} companies): sd of the "
              f"win-rate misses {miss_sd:.4f}, median gap from the win rate alone "
              f"{100 * alone:.1f}%")  # fmt: skip


if __name__ == "__main__":
    main()
