"""Retention's estimate on many demo companies, against the truth and an oracle.

    .venv/bin/python benchmarks/retention_calibration.py \
        --designs phased,ramp,placebo,single,single_placebo --seeds 60 [--first-seed 1] [--scale 1]

`attribution_calibration.py` builds, writes and attributes a whole company (30-150 s
each), so its 12-24 companies leave retention's mean bias a Monte Carlo error of
20-30% of the effect. Retention needs only the sales and service steps of the demo
(the same draws as `generate_company` for the same seed, scale and design; the
estimates equal the full benchmark's): purchases (won deals at `closed_at`, orders)
-> `crmroi.kpi.lapses.lapse_cells` -> `crmroi.attribution.attribute` with the lapse
panel's anticipation and carry, as `attribute_workspace` does (difference in
differences for the roll-outs; for `single` and `single_placebo` the time series on
the stationary panel, weighted by customers at risk, with the demo's market factors
as the market index, as `attribution_calibration.py` writes it) -> points of annual
retention (`lapse_to_retention`). Printed per design: mean estimate and its Monte
Carlo error, the truth (+0.04 x the design's effect scale; a step in every design),
coverage of the 95% interval, mean width, intervals excluding zero, and the same
estimator on an **oracle** lapse panel (customers at risk to their true departure
month, from the demo's churn times; on the time-series path the same months left
out): the gap between the two is what dating a lapse at the last purchase costs, with a
much smaller error than either against the truth (the two share the companies' noise).
"""

from __future__ import annotations

import argparse
import statistics
from concurrent.futures import ProcessPoolExecutor
from typing import Any

import numpy as np
import pandas as pd


def purchases(sales: Any, service: Any, reps: Any) -> pd.DataFrame:
    """A demo company's purchases as `lapse_cells` takes them: won deals at `closed_at` and
    orders at `ordered_at`, each with its account (`acc`), the account owner's team (`unit`),
    the time (`at`) and the table (`src`)."""
    deals = sales.tables["deals"].to_pandas()
    orders = service.tables["orders"].to_pandas()
    owner = sales.tables["accounts"].to_pandas()[["account_id", "owner_rep_id"]]
    team = owner.merge(reps.table.to_pandas()[["rep_id", "team"]], left_on="owner_rep_id",
                       right_on="rep_id")[["account_id", "team"]]  # fmt: skip
    won = deals[deals["is_won"].fillna(False) & deals["closed_at"].notna()]
    buys = pd.concat(
        [
            pd.DataFrame({"acc": won["account_id"], "at": won["closed_at"], "src": "deals"}),
            pd.DataFrame(
                {"acc": orders["account_id"], "at": orders["ordered_at"], "src": "orders"}
            ),
        ]
    ).merge(team, left_on="acc", right_on="account_id")
    at = pd.to_datetime(buys["at"])
    return pd.DataFrame({"acc": buys["acc"], "unit": buys["team"], "at": at, "src": buys["src"]})


def _company(task: tuple[str, int, float]) -> tuple[float, float, float, float, float]:
    """(estimate, low, high, oracle estimate, truth) in points of annual retention."""
    from crmroi.attribution import attribute
    from crmroi.attribution.retention import lapse_to_retention
    from crmroi.demo.company import DESIGNS, N_MONTHS, START, TEAMS, make_reps, make_world
    from crmroi.demo.effects import RETENTION_ABS
    from crmroi.demo.sales import make_sales
    from crmroi.demo.service import make_service
    from crmroi.kpi.lapses import lapse_cells

    design, seed, scale = task
    plan = DESIGNS[design]
    world = make_world(seed, scale, plan)
    reps = make_reps(world, world.rng())
    sales = make_sales(world, reps)
    service = make_service(world, reps, sales)
    buys = purchases(sales, service, reps)
    single = design.startswith("single")
    panel, gap = lapse_cells(buys, stationary=single)
    go_live = {
        t: (pd.Timestamp(START) + pd.DateOffset(months=int(g))).date()
        for t, g in zip(TEAMS, plan.go_live_month, strict=True)
    }
    market = pd.DataFrame(  # the market index attribution_calibration.py writes
        {
            "period": [pd.Timestamp(START) + pd.DateOffset(months=k) for k in range(N_MONTHS)],
            "demand": np.round(world.month_factor, 6),
            "win_shift": world.win_shift,
            "size_factor": world.size_factor,
        }
    )
    lead = int(panel.attrs["anticipation"])

    def estimate(p: pd.DataFrame, lead: int, carry: list[float], gap: int) -> object:
        frame = pd.DataFrame(
            {"unit": p["unit"], "period": p["month"], "value": p["value"], "weight": p["den"]}
        )
        result = attribute(
            frame, go_live, name="retention_rate", covariates=market if single else None,
            anticipation=lead, carry=carry, weighted=True,
        )  # fmt: skip
        return lapse_to_retention(result, gap)

    est = estimate(panel, lead, panel.attrs["carry"], int(gap or 1))
    # oracle: every customer at risk from its first purchase (or the data's start) to its
    # true departure month (customers gone before the start are none)
    never = np.iinfo(np.int64).max
    cust = np.flatnonzero((sales.active_from < never) & (sales.active_to >= world.start_us))
    first = world.month_of(sales.active_from[cust])
    gone = sales.active_to[cust] < world.end_us
    last = np.where(gone, world.month_of(sales.active_to[cust]), N_MONTHS - 1)
    length = np.maximum(last - first + 1, 0)
    row = np.repeat(np.arange(cust.size), length)
    month = first[row] + np.arange(row.size) - np.repeat(np.cumsum(length) - length, length)
    cells = (
        pd.DataFrame(
            {
                "unit": np.array(TEAMS, dtype=object)[sales.account_team[cust][row]],
                "m": month,
                "num": (gone[row] & (month == last[row])) * 1.0,
                "den": 1.0,
            }
        )
        .groupby(["unit", "m"], as_index=False)[["num", "den"]]
        .sum()
    )
    cells["month"] = [pd.Timestamp(START) + pd.DateOffset(months=int(m)) for m in cells["m"]]
    cells["value"] = cells["num"] / cells["den"]
    oracle = estimate(cells, lead if single else 0, [], 1)
    truth = RETENTION_ABS * plan.effect_scale
    return est.effect, est.ci_low, est.ci_high, oracle.effect, truth  # type: ignore[attr-defined]


def _mc(x: list[float]) -> float:
    """Monte Carlo standard error of the mean of `x`."""
    return statistics.stdev(x) / len(x) ** 0.5 if len(x) > 1 else float("nan")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--designs", default="phased,ramp,placebo")
    parser.add_argument("--seeds", type=int, default=20)
    parser.add_argument("--first-seed", type=int, default=1)
    parser.add_argument("--scale", type=float, default=1.0)
    parser.add_argument("--jobs", type=int, default=1)
    args = parser.parse_args()
    seeds = range(args.first_seed, args.first_seed + args.seeds)
    print(f"{'design':14} {'n':>4} {'estimate':>9} {'+-mc':>7} {'truth':>7} {'bias/eff':>9} "
          f"{'+-mc':>6} {'covered':>8} {'width':>6} {'excl.0':>7} {'oracle':>8} {'est-orc':>8} "
          f"{'+-mc':>7}")  # fmt: skip
    for design in [d for d in args.designs.split(",") if d]:
        tasks = [(design, s, args.scale) for s in seeds]
        with ProcessPoolExecutor(max_workers=args.jobs) as pool:
            rows = list(pool.map(_company, tasks))
        est = [r[0] for r in rows]
        diff = [r[0] - r[3] for r in rows]
        truth = rows[0][4]
        n = len(rows)

        bias = f"{(statistics.fmean(est) - truth) / truth:+.1%}" if truth else "-"
        bias_mc = f"{_mc(est) / truth:.1%}" if truth else "-"
        covered = sum(r[1] <= r[4] <= r[2] for r in rows)
        width = statistics.fmean(r[2] - r[1] for r in rows)
        excluded = sum(not r[1] <= 0.0 <= r[2] for r in rows)
        print(
            f"{design:14} {n:4d} {statistics.fmean(est):+9.4f} {_mc(est):7.4f} {truth:+7.4f} "
            f"{bias:>9} {bias_mc:>6} {covered:4d}/{n:<3d} {width:6.3f} {excluded:3d}/{n:<3d} "
            f"{statistics.fmean(r[3] for r in rows):+8.4f} "
            f"{statistics.fmean(diff):+8.4f} {_mc(diff):7.4f}",
            flush=True,
        )


if __name__ == "__main__":
    main()
