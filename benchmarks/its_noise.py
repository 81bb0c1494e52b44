"""The time series' intervals on single go-live demo companies with no effect: why they miss.

    .venv/bin/python benchmarks/its_noise.py --seeds 90 [--first-seed 1] [--jobs 2]

For each `single_placebo` company (`crmroi.demo.generate_company`, scale 1, its market
index as in `attribution_calibration.py`) the KPI panels of `attribute_workspace` are
built, then attributed here several ways; printed over the companies:

- admin_time_share by rep, the plain company series (`attribute` without `clusters`, the
  code before 6f44e7d) against each rep against their own level (with `clusters`, as
  `attribute_workspace` does): share of intervals excluding 0, mean estimate, standard
  deviation of the estimates and mean standard error (half width / t quantile of the
  note's degrees of freedom); the plain series' fit residuals' lag-1 autocorrelation; and
  the plain series with Newey-West (HAC) errors, 1 and 2 lags, for comparison;
- forecast_accuracy (team series): the same figures, and its first two months' mean
  less that of months 2-17;
- per team KPI, the months' lag-1 autocorrelation (each company's month less the mean of
  that month over the companies; months before the market moves) and the variance of a
  six-month mean times 6 over a month's variance (1 for independent months).

With `--simulate N`: N series of the demo's forecast accuracy as designed (five teams a
month, each 1 - |max(0.05, 1 + 0.25 z) - 1|, z standard normal, independent months) on
the time series' own regressors for seed 1's market index (constant, demand, annual
cycle; 12 months fitted, 6 measured): the share of its t intervals excluding 0.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent))

GO_LIVE = pd.Timestamp("2024-01-01")
MOVE = pd.Timestamp("2024-07-01")  # the demo's market moves: the window ends here
TEAM_KPIS = (
    "forecast_accuracy", "win_rate", "lead_conversion_rate", "gross_margin", "csat",
    "sales_cycle_days", "won_deals",
)  # fmt: skip
# attributed as `attribute_workspace` does (time-series path): sd of estimates / mean se
WORKSPACE_KPIS = (
    "win_rate", "lead_conversion_rate", "gross_margin", "sales_cycle_days", "won_deals",
    "csat", "avg_deal_size", "sales_volume", "calls_per_won_deal",
)  # fmt: skip


def _frame(panel: pd.DataFrame, kpi: str) -> pd.DataFrame:
    rows = panel[panel["kpi"] == kpi]
    weight = rows["den"].where(rows["den"].notna() & (rows["den"] > 0), 1.0)
    return pd.DataFrame(
        {"unit": rows["unit"], "period": rows["month"], "value": rows["value"], "weight": weight}
    )


def _se(result: Any) -> float:
    from scipy import stats

    note = next(n for n in result.notes if "degrees of freedom" in str(n))
    df = float(str(note).rsplit(" with ", 1)[1].split()[0])
    return float((result.ci_high - result.ci_low) / 2 / stats.t.ppf(0.975, df))


def _hac(series: pd.DataFrame, cov: pd.DataFrame, lags: int) -> tuple[float, float]:
    """Estimate and standard error with Newey-West errors (parameters and the months' mean)."""
    import statsmodels.api as sm

    s = series.merge(cov, on="period")
    s = s[s["period"] < MOVE]
    angle = 2 * np.pi * (s["period"].dt.month - 1) / 12
    x = np.column_stack([np.ones(len(s)), s["demand"], np.sin(angle), np.cos(angle)])
    pre = (s["period"] < GO_LIVE).to_numpy()
    y = s["value"].to_numpy()
    fit = sm.OLS(y[pre], x[pre]).fit(
        cov_type="HAC", cov_kwds={"maxlags": lags, "use_correction": True}
    )
    r = np.asarray(fit.resid)
    dof = len(r) - x.shape[1]
    long_run = r @ r / dof
    for k in range(1, lags + 1):
        long_run += 2 * (1 - k / (lags + 1)) * (r[k:] @ r[:-k]) / dof
    mean_x = x[~pre].mean(0)
    gap = float((y[~pre] - x[~pre] @ np.asarray(fit.params)).mean())
    var = max(long_run, 0.0) / (~pre).sum() + mean_x @ np.asarray(fit.cov_params()) @ mean_x
    return gap, float(np.sqrt(var))


def _residual_lag1(series: pd.DataFrame, cov: pd.DataFrame) -> float:
    import statsmodels.api as sm

    s = series.merge(cov, on="period")
    s = s[s["period"] < GO_LIVE]
    angle = 2 * np.pi * (s["period"].dt.month - 1) / 12
    x = np.column_stack([np.ones(len(s)), s["demand"], np.sin(angle), np.cos(angle)])
    r = np.asarray(sm.OLS(s["value"].to_numpy(), x).fit().resid)
    return float(np.corrcoef(r[:-1], r[1:])[0, 1])


def company(task: tuple[int, str | None]) -> dict[str, Any]:
    """One single_placebo company's figures (`task`: seed and the demo's draws)."""
    from attribution_calibration import _write_market_index
    from crmroi.attribution import attribute
    from crmroi.attribution.results import check_panel, company_series
    from crmroi.attribution.workspace import (
        Unavailable,
        attribute_workspace,
        read_market_index,
        unit_go_live,
    )
    from crmroi.demo import generate_company, write_demo
    from crmroi.kpi import kpi_panel
    from crmroi.store import Store

    seed, draws = task
    made = generate_company(scale=1, seed=seed, design="single_placebo", draws=draws)
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        store = Store.open(folder, create=True)
        try:
            write_demo(store, made, folder)
            index = _write_market_index(folder, made.truth)
            cov = read_market_index(index)
            found = attribute_workspace(store, kpis=list(WORKSPACE_KPIS), market_index=index)
            reps = kpi_panel(store, ["admin_time_share"], unit="rep", exposure="created")
            teams = kpi_panel(store, list(TEAM_KPIS), unit="team", exposure="created")
            dates = unit_go_live(store, "team", None)
        finally:
            store.close()
    out: dict[str, Any] = {"seed": seed}
    for res in found:
        if not isinstance(res, Unavailable) and res.method == "its":
            out[f"its {res.name}"] = (res.effect, _se(res), res.ci_low <= 0 <= res.ci_high)
    admin = _frame(reps, "admin_time_share")
    rep_dates = {u: GO_LIVE.date() for u in admin["unit"].unique()}
    plain = attribute(admin, rep_dates, name="admin_time_share", covariates=cov)
    own = attribute(
        admin, rep_dates, name="admin_time_share", covariates=cov,
        clusters={u: "team" for u in rep_dates},
    )  # fmt: skip
    series = company_series(check_panel(admin, "admin_time_share"))
    out["admin plain"] = (plain.effect, _se(plain), plain.ci_low <= 0 <= plain.ci_high)
    out["admin by rep"] = (own.effect, _se(own), own.ci_low <= 0 <= own.ci_high)
    for lags in (1, 2):
        est, se = _hac(series, cov, lags)
        out[f"admin HAC {lags} lag"] = (est, se, abs(est) <= 2.306 * se)
    out["admin residual lag1"] = _residual_lag1(series, cov)
    fa = _frame(teams, "forecast_accuracy")
    res = attribute(fa, dates, name="forecast_accuracy", covariates=cov)
    out["forecast_accuracy"] = (res.effect, _se(res), res.ci_low <= 0 <= res.ci_high)
    by_month = fa.groupby("period")["value"].mean()
    out["forecast early"] = float(by_month.iloc[:2].mean() - by_month.iloc[2:18].mean())
    for kpi in TEAM_KPIS:
        s = company_series(check_panel(_frame(teams, kpi), kpi))
        out[f"months {kpi}"] = s[s["period"] < MOVE]["value"].to_numpy()
    return out


def simulate(runs: int) -> float:
    """Share of exact t intervals excluding 0 on designed forecast-accuracy series."""
    from scipy import stats

    from crmroi.demo import generate_company

    market = generate_company(scale=1, seed=1, design="single_placebo").truth["market"]
    cov = pd.DataFrame(market["by_month"])
    period = pd.to_datetime(cov["month"]).dt.to_period("M").dt.to_timestamp()
    keep = (period < MOVE).to_numpy()
    angle = 2 * np.pi * (period.dt.month.to_numpy()[keep] - 1) / 12
    x = np.column_stack([np.ones(keep.sum()), cov["demand"][keep], np.sin(angle), np.cos(angle)])
    pre = (period[keep] < GO_LIVE).to_numpy()
    bread = np.linalg.inv(x[pre].T @ x[pre])
    mean_x = x[~pre].mean(0)
    quantile = stats.t.ppf(0.975, pre.sum() - x.shape[1])
    rng = np.random.default_rng(7)
    z = rng.normal(size=(runs, len(x), 5))
    y = (1 - np.abs(np.maximum(0.05, 1 + 0.25 * z) - 1)).mean(2)
    beta = y[:, pre] @ x[pre] @ bread
    resid = y[:, pre] - beta @ x[pre].T
    scale = (resid**2).sum(1) / (pre.sum() - x.shape[1])
    gap = (y[:, ~pre] - beta @ x[~pre].T).mean(1)
    se = np.sqrt(scale / (~pre).sum() + scale * (mean_x @ bread @ mean_x))
    return float((np.abs(gap) > quantile * se).mean())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seeds", type=int, default=20)
    parser.add_argument("--first-seed", type=int, default=1)
    parser.add_argument("--jobs", type=int, default=1)
    parser.add_argument("--simulate", type=int, default=0, help="designed series only")
    parser.add_argument(
        "--draws", choices=("independent", "stratified"), help="the demo's draws (its default)"
    )
    args = parser.parse_args()
    if args.simulate:
        share = simulate(args.simulate)
        print(f"designed forecast accuracy, {args.simulate} series: {share:.2%} exclude 0")
        return
    seeds = range(args.first_seed, args.first_seed + args.seeds)
    with ProcessPoolExecutor(args.jobs) as pool:
        rows = list(pool.map(company, [(seed, args.draws) for seed in seeds]))
    n = len(rows)
    draws = args.draws or "the demo's default"
    print(f"single_placebo seeds {seeds.start}-{seeds.stop - 1} ({n} companies), draws: {draws}")
    head = ("excl. 0", "mean", "sd", "mean se")
    print(f"{'estimator':28s} " + " ".join(f"{h:>9s}" for h in head) + f" {'sd/se':>6s}")
    keys = ["admin plain", "admin by rep", "admin HAC 1 lag", "admin HAC 2 lag",
            "forecast_accuracy"]  # fmt: skip
    keys += [f"its {kpi}" for kpi in WORKSPACE_KPIS if all(f"its {kpi}" in r for r in rows)]
    for key in keys:
        est = np.array([r[key][0] for r in rows])
        se = np.array([r[key][1] for r in rows])
        held = sum(bool(r[key][2]) for r in rows)
        print(
            f"{key:28s} {n - held:4d}/{n:<4d} {est.mean():+9.5f} {est.std(ddof=1):9.5f} "
            f"{se.mean():9.5f} {est.std(ddof=1) / se.mean():6.2f}"
        )
    lag1 = np.array([r["admin residual lag1"] for r in rows])
    print(f"admin plain series: fit residuals' lag-1 autocorrelation, mean {lag1.mean():+.2f}")
    early = np.array([r["forecast early"] for r in rows])
    print(
        f"forecast_accuracy: months 0-1 less months 2-17 {early.mean():+.4f} "
        f"+- {early.std(ddof=1) / np.sqrt(n):.4f}"
    )
    print(f"{'team KPI':22s} {'lag 1':>6s} {'lag 2':>6s} {'6-month mean var x 6 / month var':>34s}")
    for kpi in TEAM_KPIS:
        months = np.array([r[f"months {kpi}"] for r in rows])
        months = months - months.mean(0)
        lag = [
            np.mean([np.corrcoef(months[:, t], months[:, t + k])[0, 1]
                     for t in range(months.shape[1] - k)])
            for k in (1, 2)
        ]  # fmt: skip
        ratio = months[:, 12:18].mean(1).var(ddof=1) * 6 / months.var(ddof=1)
        print(f"{kpi:22s} {lag[0]:+6.2f} {lag[1]:+6.2f} {ratio:34.2f}")


if __name__ == "__main__":
    main()
