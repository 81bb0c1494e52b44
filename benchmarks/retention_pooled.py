"""Retention's structural bias: the estimator on lapse panels pooled over many demo companies.

    nice -n 10 .venv/bin/python benchmarks/retention_pooled.py \
        --designs phased,ramp,placebo --chunks 8 --chunk-size 300 [--first-seed 1] [--jobs 1] \
        [--no-sales-effects]

`retention_calibration.py` averages one estimate per company; its Monte Carlo error
over 3,000 companies is still about 2% of the effect. Here the lapse cells (lapses,
customers at risk per team and month) of `--chunk-size` companies are summed before
the estimator runs, so each chunk is one company that many times larger: its estimate
shows what the estimator reads with (almost) no sampling noise, and the spread over
`--chunks` chunks gives the error. Every variant is built from the same customers, so
differences between them (`paired`) have much smaller errors than either.

Panels, each attributed as `retention_calibration.py` does (imputation estimator,
weights: customers at risk) and restated in points of annual retention:

- `oracle`: every customer at risk from its first month as a customer (or the data's
  start) to its true departure month, where it lapses (no months left out, no lead);
- `oracle, whole months`: the same from the first month it was a customer for the whole
  of (a customer won mid-month is not at risk in that month);
- `product`: `crmroi.kpi.lapses.lapse_cells` on the purchases (won deals at `closed_at`,
  orders), with its `anticipation` and `carry`;
- `product, first months out`: the same without the months before the demo's start
  month + `anticipation` (where customers first seen in the data, possibly buying long
  before, lapse far more often: the left-truncated start);
- `true status`: the product's months at risk and lapse dates (its last purchase), but
  a customer lapses if and only if it truly left (the product's gap rule replaced);
- `true status, from start`: the same, customers already buying before the data's first
  month at risk from that month rather than from their first purchase in the data;
- `true status, no carry`: `true status` without the carry correction.

Also printed: the truth (+0.04 x the design's effect scale) and the same figure computed
in closed form from the demo's hazards and the product's conversion of a monthly lapse
rate, `(1 - p) ** 12` with `p = 1 - exp(-h)` per month. `--no-sales-effects` switches
off the CRM's effects on deals and leads (win rate, cycle, size, conversion: the demo's
dose is 0) and keeps its effect on churn: a diagnostic of how those effects reach the
lapse panel, not a demo design. `--off win_rate,sales_cycle,lead_conversion` switches
off only the CRM effects named (`crmroi.demo.effects` constants set to 0), to tell
which of them reaches the panel.
"""

from __future__ import annotations

import argparse
import math
import statistics
import sys
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent))  # retention_calibration

OFF = 12  # months before the demo's start kept in the pooled grid (warm-up deals)
KEYS = ("oracle", "whole", "product", "late", "status", "start", "nocarry")
LABEL = {
    "oracle": "oracle",
    "whole": "oracle, whole months",
    "product": "product",
    "late": "product, first months out",
    "status": "true status",
    "start": "true status, from start",
    "nocarry": "true status, no carry",
}


def _add(grid: np.ndarray, team: np.ndarray, first: np.ndarray, end: np.ndarray,
         lapse: np.ndarray) -> None:  # fmt: skip
    """Adds customers at risk in months first..end (grid codes) and their lapses at `end`
    where `lapse` to grid[0] (lapses) and grid[1] (at risk)."""
    length = np.maximum(end - first + 1, 0)
    row = np.repeat(np.arange(first.size), length)
    month = first[row] + np.arange(row.size) - np.repeat(np.cumsum(length) - length, length)
    np.add.at(grid[1], (team[row], month), 1.0)
    np.add.at(grid[0], (team[row], month), (lapse[row] & (month == end[row])) * 1.0)


OFF_EFFECTS = {
    "win_rate": "WIN_RATE_ABS",
    "sales_cycle": "SALES_CYCLE_REL",
    "deal_size": "DEAL_SIZE_REL",
    "lead_conversion": "LEAD_CONVERSION_ABS",
}


def _company(
    design: str, seed: int, sales_effects: bool, off: tuple[str, ...] = ()
) -> dict[str, object]:
    """Lapse cells of one demo company: per panel a (2, teams, months) grid."""
    from crmroi.demo import company as demo
    from crmroi.demo import effects as fx
    from crmroi.demo.company import DESIGNS, N_MONTHS, START, TEAMS, make_reps, make_world
    from crmroi.demo.sales import make_sales
    from crmroi.demo.service import make_service
    from crmroi.kpi.lapses import lapse_cells
    from retention_calibration import purchases

    if not sales_effects:
        demo.World.dose = lambda self, team, us: np.zeros(np.shape(us))  # type: ignore[method-assign]
    for name in off:
        value = getattr(fx, OFF_EFFECTS[name])
        setattr(
            fx, OFF_EFFECTS[name], tuple(0.0 for _ in value) if isinstance(value, tuple) else 0.0
        )
    world = make_world(seed, 1.0, DESIGNS[design])
    reps = make_reps(world, world.rng())
    sales = make_sales(world, reps)
    service = make_service(world, reps, sales)
    accounts = sales.tables["accounts"].to_pandas()
    buys = purchases(sales, service, reps)
    panel, gap = lapse_cells(buys)
    shape = (2, len(TEAMS), N_MONTHS + OFF)
    grids = {k: np.zeros(shape) for k in KEYS if k not in ("nocarry", "late")}
    index = {t: i for i, t in enumerate(TEAMS)}
    start = pd.Timestamp(START)
    m0 = start.year * 12 + start.month - 1
    code = (panel["month"].dt.year * 12 + panel["month"].dt.month - 1 - m0).to_numpy() + OFF
    unit = panel["unit"].map(index).to_numpy()
    np.add.at(grids["product"][0], (unit, code), panel["num"].to_numpy())
    np.add.at(grids["product"][1], (unit, code), panel["den"].to_numpy())
    # the product's months and dates with each customer's true status
    month = (buys["at"].dt.year * 12 + buys["at"].dt.month - 1 - m0).to_numpy() + OFF
    per = (
        buys.assign(m=month)
        .groupby(["acc", "unit"], as_index=False)["m"]
        .agg(first="min", last="max")
    )
    row = per["acc"].map({a: i for i, a in enumerate(accounts["account_id"])}).to_numpy()
    gone = sales.active_to[row] < world.end_us
    stop = int(month.max()) - int(gap or 1)
    first, last = per["first"].to_numpy(), per["last"].to_numpy()
    t = per["unit"].map(index).to_numpy()
    lapsed = gone & (last < stop)
    end = np.where(lapsed, last, stop - 1)
    _add(grids["status"], t, first, end, lapsed)
    since = world.month_of(np.maximum(sales.active_from[row], world.start_us)) + OFF
    _add(grids["start"], t, np.where(first < OFF, first, np.minimum(since, first)), end, lapsed)
    # oracle: at risk to the true departure month
    never = np.iinfo(np.int64).max
    cust = np.flatnonzero((sales.active_from < never) & (sales.active_to >= world.start_us))
    out = sales.active_to[cust] < world.end_us
    departed = np.where(out, world.month_of(sales.active_to[cust]), N_MONTHS - 1) + OFF
    since = world.month_of(sales.active_from[cust])
    _add(grids["oracle"], sales.account_team[cust], since + OFF, departed, out)
    whole = since + (sales.active_from[cust] > world.month_us[since])  # won mid-month: next
    _add(grids["whole"], sales.account_team[cust], whole + OFF, departed, out)
    return {"grids": grids, "lead": int(panel.attrs["anticipation"]),
            "carry": list(panel.attrs["carry"])}  # fmt: skip


def _chunk(task: tuple[str, int, int, bool, tuple[str, ...]]) -> dict[str, float]:
    """Points of annual retention per panel on `size` companies' summed cells."""
    from crmroi.attribution import attribute
    from crmroi.attribution.retention import lapse_to_retention
    from crmroi.demo.company import DESIGNS, N_MONTHS, START, TEAMS

    design, first_seed, size, sales_effects, off = task
    seeds = range(first_seed, first_seed + size)
    parts = [_company(design, s, sales_effects, off) for s in seeds]
    grids = {k: sum(p["grids"][k] for p in parts) for k in parts[0]["grids"]}  # type: ignore[index]
    lead = int(np.median([p["lead"] for p in parts]))
    longest = max(len(p["carry"]) for p in parts)  # type: ignore[arg-type]
    carry = list(
        np.mean([list(p["carry"]) + [0.0] * (longest - len(p["carry"])) for p in parts], axis=0)  # type: ignore[arg-type, operator]
    )
    plan = DESIGNS[design]
    go_live = {
        t: (pd.Timestamp(START) + pd.DateOffset(months=int(g))).date()
        for t, g in zip(TEAMS, plan.go_live_month, strict=True)
    }
    months = [pd.Timestamp(START) + pd.DateOffset(months=k) for k in range(-OFF, N_MONTHS)]

    def points(grid: np.ndarray, lead: int, carry: list[float], start: int = 0) -> float:
        num, den = grid
        i, m = np.nonzero(den > 0)
        i, m = i[m >= start], m[m >= start]
        frame = pd.DataFrame(
            {"unit": np.array(TEAMS, dtype=object)[i], "period": [months[k] for k in m],
             "value": num[i, m] / den[i, m], "weight": den[i, m]}
        )  # fmt: skip
        result = attribute(frame, go_live, name="retention_rate", anticipation=lead,
                           carry=carry, weighted=True)  # fmt: skip
        return float(lapse_to_retention(result, 1).effect)

    return {
        "oracle": points(grids["oracle"], 0, []),
        "whole": points(grids["whole"], 0, []),
        "product": points(grids["product"], lead, carry),
        "late": points(grids["product"], lead, carry, OFF + lead),
        "status": points(grids["status"], lead, carry),
        "start": points(grids["start"], lead, carry),
        "nocarry": points(grids["status"], lead, []),
    }


def closed_form(scale: float) -> float:
    """The demo's retention effect from its hazards and the product's conversion: a
    monthly hazard h gives a monthly lapse rate p = 1 - exp(-h), annual retention (1-p)^12."""
    from crmroi.demo.effects import RETENTION_ABS, RETENTION_BASE

    def annual(h: float) -> float:
        return (1.0 - (1.0 - math.exp(-h))) ** 12

    h0 = -math.log(RETENTION_BASE) / 12
    h1 = -math.log(RETENTION_BASE + RETENTION_ABS * scale) / 12
    return annual(h1) - annual(h0)


def _mean(x: list[float]) -> str:
    err = statistics.stdev(x) / len(x) ** 0.5 if len(x) > 1 else float("nan")
    return f"{statistics.fmean(x):+.5f} +- {err:.5f}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--designs", default="phased,ramp")
    parser.add_argument("--chunks", type=int, default=4)
    parser.add_argument("--chunk-size", type=int, default=300)
    parser.add_argument("--first-seed", type=int, default=1)
    parser.add_argument("--jobs", type=int, default=1)
    parser.add_argument("--no-sales-effects", action="store_true")
    parser.add_argument(
        "--off", default="", help="CRM effects to switch off: " + ",".join(OFF_EFFECTS)
    )
    args = parser.parse_args()
    off = tuple(x for x in args.off.split(",") if x)
    unknown = [x for x in off if x not in OFF_EFFECTS]
    if unknown:
        parser.error(f"unknown --off: {', '.join(unknown)}")
    from crmroi.demo.company import DESIGNS
    from crmroi.demo.effects import RETENTION_ABS

    for design in [d for d in args.designs.split(",") if d]:
        scale = DESIGNS[design].effect_scale
        tasks = [
            (design, args.first_seed + c * args.chunk_size, args.chunk_size,
             not args.no_sales_effects, off)
            for c in range(args.chunks)
        ]  # fmt: skip
        with ProcessPoolExecutor(max_workers=args.jobs) as pool:
            rows = list(pool.map(_chunk, tasks))
        truth = RETENTION_ABS * scale
        print(f"{design}: {args.chunks} chunks of {args.chunk_size} companies (seeds "
              f"{args.first_seed}-{args.first_seed + args.chunks * args.chunk_size - 1})"
              f"{', no sales effects' if args.no_sales_effects else ''}"
              f"{', off: ' + ','.join(off) if off else ''}; truth {truth:+.5f}, "
              f"closed form {closed_form(scale):+.5f}")  # fmt: skip
        for key in KEYS:
            x = [r[key] for r in rows]
            rel = f"{(statistics.fmean(x) - truth) / truth:+6.1%}" if truth else "     -"
            diff = [r[key] - r["oracle"] for r in rows]
            print(f"  {LABEL[key]:26} {_mean(x)}  bias/eff {rel}   - oracle {_mean(diff)}")
        pairs = (("whole", "oracle"), ("late", "product"), ("product", "status"),
                 ("start", "status"), ("status", "nocarry"))  # fmt: skip
        for a, b in pairs:
            d = [r[a] - r[b] for r in rows]
            print(f"  paired {LABEL[a]} - {LABEL[b]}: {_mean(d)}")


if __name__ == "__main__":
    main()
