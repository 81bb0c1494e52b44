"""The single go-live's ratio KPIs against three exact answers (from calibration JSON files).

    .venv/bin/python benchmarks/its_ratio_truth.py single_indep.json [more.json ...]

For calls_per_won_deal and avg_deal_size under `single`, the estimates of
`attribution_calibration.py --json` are compared with the demo's exact answer over the
months measured (creation months 2024-01 to 2024-06, before the market moves), formed
three ways from `realised_truth` (the same draws; the JSON files must come from the
demo's current draws): each team-month's counterfactual ratio weighted by its actual
denominator (the calibration's `realised_change`), each company month's, and the ratio
of totals. Printed: mean truth, mean miss with its Monte Carlo error, and coverage.

With `--refit`, each company is rebuilt and calls_per_won_deal attributed on the time
series twice: as `attribute_workspace` does (the company series is the won-weighted mean
of each team-month's value, which is less its own ratio bias, `ratio_bias_corrected`)
and with each team-month's plain calls / won (the weighted mean is then the ratio of the
company's sums); both against the calibration's truth and the ratio of totals.
"""

from __future__ import annotations

import argparse
import json
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any

import numpy as np

KPIS = ("calls_per_won_deal", "avg_deal_size")
MONTHS = range(12, 18)  # 2024-01 .. 2024-06: the single go-live's months measured


def _truths(seed: int) -> tuple[int, dict[str, tuple[float, float, float, float]]]:
    from crmroi.demo.company import realised_truth

    grids = realised_truth(scale=1, seed=seed, design="single")["realised_by_team_month"]
    out = {}
    for kpi in KPIS:
        g = grids[kpi]
        a, c, n, k = (
            g[part] for part in ("actual", "counterfactual", "actual_den", "counterfactual_den")
        )
        cells = [(t, m) for t in a for m in MONTHS]
        actual = sum(a[t][m] for t, m in cells)
        by_team_month = sum(
            n[t][m] * c[t][m] / k[t][m] for t, m in cells if n[t][m] > 0 and k[t][m] > 0
        )
        by_month = sum(
            sum(n[t][m] for t in a) * sum(c[t][m] for t in a) / sum(k[t][m] for t in a)
            for m in MONTHS
        )
        totals = sum(n[t][m] for t, m in cells) * sum(c[t][m] for t, m in cells)
        totals /= sum(k[t][m] for t, m in cells)
        per_cell = float(np.mean([k[t][m] for t, m in cells]))
        out[kpi] = (
            actual / by_team_month - 1,
            actual / by_month - 1,
            actual / totals - 1,
            per_cell,
        )
    return seed, out


def _refit(seed: int) -> tuple[int, dict[str, tuple[float, float, float]]]:
    """calls_per_won_deal's relative effect and interval, corrected and plain cell values."""
    import sys
    import tempfile

    import pandas as pd

    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from attribution_calibration import _write_market_index
    from crmroi.attribution import attribute
    from crmroi.attribution.workspace import read_market_index, unit_go_live
    from crmroi.demo import generate_company, write_demo
    from crmroi.kpi import kpi_panel
    from crmroi.store import Store

    made = generate_company(scale=1, seed=seed, design="single")
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        store = Store.open(folder, create=True)
        try:
            write_demo(store, made, folder)
            cov = read_market_index(_write_market_index(folder, made.truth))
            rows = kpi_panel(store, ["calls_per_won_deal"], unit="team", exposure="created")
            dates = unit_go_live(store, "team", None)
        finally:
            store.close()
    rows = rows[rows["kpi"] == "calls_per_won_deal"]
    out = {}
    for name, value in (("corrected", rows["value"]), ("plain", rows["num"] / rows["den"])):
        frame = pd.DataFrame(
            {"unit": rows["unit"], "period": rows["month"], "value": value, "weight": rows["den"]}
        )
        r = attribute(frame, dates, name="calls_per_won_deal", covariates=cov)
        per = r.effect / r.effect_rel
        out[name] = (float(r.effect_rel), r.ci_low / per, r.ci_high / per)
    return seed, out


def _against(est: np.ndarray, low: np.ndarray, high: np.ndarray, truth: np.ndarray) -> str:
    """Mean miss of `est` against `truth` with its Monte Carlo error, and how many of the
    intervals [low, high] hold the truth."""
    miss = est - truth
    mc = miss.std(ddof=1) / np.sqrt(len(miss))
    held = int(((low <= truth) & (truth <= high)).sum())
    return f"miss {miss.mean():+.4f} +- {mc:.4f}  covered {held}/{len(truth)}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("json", type=Path, nargs="+")
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--refit", action="store_true", help="rebuild and refit (see above)")
    args = parser.parse_args()
    rows: dict[tuple[int, str], dict[str, Any]] = {}
    for path in args.json:
        for r in json.loads(path.read_text())["rows"]:
            if r["design"] == "single" and r["kpi"] in KPIS and r["attributed"]:
                rows[(r["seed"], r["kpi"])] = r
    seeds = sorted({s for s, _ in rows})
    with ProcessPoolExecutor(args.jobs) as pool:
        truths = dict(pool.map(_truths, seeds))
    for kpi in KPIS:
        these = [s for s in seeds if (s, kpi) in rows]
        if not these:
            print(f"{kpi}: no single go-live rows in the files")
            continue
        est = np.array([rows[(s, kpi)]["estimate"] for s in these])
        low = np.array([rows[(s, kpi)]["low"] for s in these])
        high = np.array([rows[(s, kpi)]["high"] for s in these])
        won = np.mean([truths[s][kpi][3] for s in these])
        print(f"{kpi}: {len(these)} companies, {won:.1f} counterfactual won deals a team-month")
        for i, name in enumerate(("team-month ratios", "company-month ratios", "ratio of totals")):
            truth = np.array([truths[s][kpi][i] for s in these])
            print(f"  {name:22s} truth {truth.mean():+.4f}  {_against(est, low, high, truth)}")
    if not args.refit:
        return
    kpi = "calls_per_won_deal"
    these = [s for s in seeds if (s, kpi) in rows]
    with ProcessPoolExecutor(args.jobs) as pool:
        refits = dict(pool.map(_refit, these))
    answers = {
        "calibration's truth": np.array([rows[(s, kpi)]["truth"] for s in these]),
        "ratio of totals": np.array([truths[s][kpi][2] for s in these]),
    }
    print(f"{kpi} refitted on the time series ({len(these)} companies):")
    for name in ("corrected", "plain"):
        est = np.array([refits[s][name][0] for s in these])
        low = np.array([refits[s][name][1] for s in these])
        high = np.array([refits[s][name][2] for s in these])
        for label, truth in answers.items():
            print(f"  cell values {name:9s} vs {label:19s} {_against(est, low, high, truth)}")


if __name__ == "__main__":
    main()
