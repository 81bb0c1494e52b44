"""Calibration of `crmroi attribute` on generated demo companies with known effects.

    .venv/bin/python benchmarks/attribution_calibration.py --seeds 8 [--scale 0.5]
        [--designs phased,ramp,single,placebo] [--first-seed 1] [--json out.json]
        [--merge earlier.json ...]   # --seeds 0 --merge a.json b.json: the table of both
        [--retruth]   # with --merge: the merged estimates against the current demo truth
        [--jobs 2]    # companies side by side, one process each
        [--kpis retention_rate,...]   # only these KPIs
        [--npv]   # phased: NPV of examples/case.yaml with `measured` drivers vs the truth
        [--draws independent|stratified]   # the demo's draws (default: the demo's own)

For each design and seed it builds a demo company (`crmroi.demo.generate_company`),
loads it into a temporary workspace, runs `attribute_workspace` and compares every
KPI with an injected effect against the demo's truth (`truth.json`). Printed per
design and KPI: runs, share attributed (a method other than naive gave an interval),
coverage of the 95% interval, mean bias as a share of the effect and its Monte Carlo
standard error (+-mc: standard deviation of the misses / sqrt(runs)), mean interval
width (in the truth's scale: points for `change_abs`, relative for `change_rel`),
the share of intervals excluding zero (false alarms under `placebo`) and the share
of pre-trend / placebo warnings. Designs:

- phased: the demo's staggered roll-out (five teams, step effects);
- ramp: the same roll-out, every effect growing linearly to its full size over six
  months (truth per month since go-live in `truth.json`);
- single: every team goes live on the same day, a market index file (the demo's
  demand, win-rate and deal-size market factors) feeds the time-series path;
- placebo: the phased roll-out with no effect at all;
- single_placebo: the single go-live with its market index and no effect at all.

The truth compared is the demo's exact answer for the estimator's target: the effect
on rows worked after go-live, averaged with the estimator's weights over months since
go-live (which matters only under `ramp`); for sales volume and won deals the realised
change (actual against the same draws without the CRM) over exactly the team-months
the estimator used (`realised_by_team_month` in truth.json). For ratio KPIs each
month's counterfactual ratio is weighted by its actual denominator; a month is a
team-month, except for calls per won deal on the time-series path (single and
single_placebo), whose series is each company month's calls / won deals: there the
exact answer is each company month's counterfactual ratio (team-months of ~17 won
deals would inflate it by 1 / won's convexity).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import re
import statistics
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

DESIGNS = ("phased", "ramp", "single", "placebo", "single_placebo")
# Ratio KPIs whose time series (and naive) company series is each month's ratio of the
# company's sums (`crmroi.attribution.attribute` with `ratio`): their exact answer there
# is by company month (`realised_change(by_month=True)`).
COMPANY_MONTH_RATIOS = ("calls_per_won_deal",)


@dataclass
class Row:
    """One KPI x company comparison."""

    design: str
    seed: int
    kpi: str
    truth: float
    attributed: bool
    estimate: float | None = None
    low: float | None = None
    high: float | None = None
    warned: bool = False
    method: str | None = None
    notes: list[str] = field(default_factory=list)


def _write_market_index(folder: Path, truth: dict[str, Any]) -> Path:
    """The demo's market factors per month as a CSV (date, demand, win shift, size)."""
    market = truth["market"]["by_month"]
    path = folder / "market.csv"
    lines = ["month,demand,win_shift,size_factor"]
    lines += [f"{m['month']},{m['demand']},{m['win_shift']},{m['size_factor']}" for m in market]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def _month_index(truth: dict[str, Any], day: str) -> int:
    start = dt.date.fromisoformat(truth["start"])
    when = dt.date.fromisoformat(day)
    return (when.year - start.year) * 12 + when.month - start.month


def _realised_target(truth: dict[str, Any], kpi: str, result: Any) -> float | None:
    """The realised relative effect over exactly the team-months the estimator used.

    Live team-months (creation month from the team's go-live on) before the cohort
    cut the notes state; for `did` only months with a team not yet live (the others
    cannot be imputed). The answer is actual over counterfactual totals, minus 1.
    """
    grid = truth.get("realised_by_team_month", {}).get(kpi)
    if not grid or result is None:
        return None
    stop = len(next(iter(grid["actual"].values())))
    for note in result.notes:
        found = re.search(r"from (\d{4}-\d{2}) on left out", note)
        if found:
            stop = min(stop, _month_index(truth, found.group(1) + "-01"))
    go_live = {t: _month_index(truth, d) for t, d in truth["go_live_by_team"].items()}
    if result.method == "did":
        stop = min(stop, max(go_live.values()))
    cells = [(t, m) for t, g in go_live.items() for m in range(g, stop)]
    by_month = kpi in COMPANY_MONTH_RATIOS and result.method != "did"
    return realised_change(grid, cells, by_month=by_month)


def realised_change(
    grid: dict[str, Any], cells: list[tuple[str, int]], by_month: bool = False
) -> float | None:
    """The exact relative effect over `cells` (team, creation month) of one KPI's grids.

    Totals: actual over counterfactual sums, minus 1. Ratios (grids with `actual_den`):
    each month's counterfactual ratio weighted by its actual denominator, as the
    estimator weights its months: sum(actual) / sum(actual_den x cf / cf_den) - 1
    over months with both denominators positive. A month is a team-month, or with
    `by_month` a company month (`COMPANY_MONTH_RATIOS` on the time series: its series is
    each month's ratio of the company's sums): sums over the month's teams with the
    denominator positive, sum(actual) / sum_m(actual_den_m x cf_m / cf_den_m) - 1.
    """
    a, c = grid["actual"], grid["counterfactual"]
    if "actual_den" not in grid:
        actual = sum(a[t][m] for t, m in cells)
        counterfactual = sum(c[t][m] for t, m in cells)
        return actual / counterfactual - 1.0 if counterfactual else None
    n, k = grid["actual_den"], grid["counterfactual_den"]
    if by_month:
        total, counterfactual = 0.0, 0.0
        for month in sorted({m for _, m in cells}):
            here = [t for t, m in cells if m == month]
            n_m = sum(n[t][month] for t in here if n[t][month] > 0)
            k_m = sum(k[t][month] for t in here if k[t][month] > 0)
            if n_m > 0 and k_m > 0:
                total += sum(a[t][month] for t in here if n[t][month] > 0)
                counterfactual += n_m * sum(c[t][month] for t in here if k[t][month] > 0) / k_m
        return total / counterfactual - 1.0 if counterfactual else None
    both = [(t, m) for t, m in cells if n[t][m] > 0 and k[t][m] > 0]
    actual = sum(a[t][m] for t, m in both)
    counterfactual = sum(n[t][m] * c[t][m] / k[t][m] for t, m in both)
    return actual / counterfactual - 1.0 if counterfactual else None


def _target(truth: dict[str, Any], kpi: str, result: Any) -> tuple[str, float]:
    """(scale key, exact answer) for `kpi`, averaged with the estimator's horizon weights."""
    ((key, full),) = truth["effects"][kpi].items()
    realised = _realised_target(truth, kpi, result)
    if realised is not None:  # already measured on the rows, ramp included
        return key, realised
    ramp = truth.get("design", {}).get("ramp_by_month")
    if kpi in truth.get("design", {}).get("step_effects", []):
        return key, float(full)
    study = getattr(result, "event_study", None)
    if not ramp or study is None or not getattr(study, "weight", None):
        return key, float(full)
    shares = [
        (w, ramp[min(k, len(ramp) - 1)])
        for k, w in zip(study.relative_month, study.weight, strict=True)
        if k >= 0 and w > 0
    ]
    total = sum(w for w, _ in shares)
    return key, float(full) * sum(w * s for w, s in shares) / total if total else float(full)


EXAMPLE = Path(__file__).resolve().parents[1] / "examples" / "case.yaml"
# The example case's drivers: the truth.json effect each one's true change is, and
# where its measured change comes from.
DRIVER_TRUTH: dict[str, tuple[str | None, str]] = {
    "win_rate": ("win_rate", "attributed"),
    "deal_size": ("avg_deal_size", "attributed"),
    "time_saved": ("admin_time_share", "attributed"),
    "retention": ("retention_rate", "attributed"),
    "service_cost": (None, "attributed"),  # the demo injects no effect on ticket cost
}


@dataclass
class NpvGap:
    """NPV (USD) of examples/case.yaml with `measured` drivers, at the true effects, and
    with one driver at a time at its true effect (the others measured); the measured
    change of each driver next to its truth."""

    measured: float
    true: float
    one_true: dict[str, float]
    changes: dict[str, tuple[float, float]]
    # 95% range of the simulated NPV, only the measured changes drawn (the other ranged
    # inputs at their most likely value, as in `true`): their intervals drawn as intervals
    # (a37a21e) and, before, as PERT minimum and maximum
    simulated: tuple[float, float] | None = None
    simulated_min_max: tuple[float, float] | None = None


def simulated_npv_range(model: Any, as_interval: bool) -> tuple[float, float]:
    """P2.5 and P97.5 of the NPV (USD) with only the measured changes drawn (seed 0, 4,000
    runs): what `roi` prints as the range on the measurement alone
    (`crmroi.finance.measured_range`); `as_interval=False` draws each measured interval
    as a PERT minimum and maximum instead, as before a37a21e."""
    import dataclasses

    from crmroi.finance.estimates import Range
    from crmroi.finance.measured_range import measured_range

    if not as_interval:
        lines = [
            dataclasses.replace(
                line,
                inputs={
                    n: v.model_copy(update={"level": None})
                    if n in line.measured and isinstance(v, Range)
                    else v
                    for n, v in line.inputs.items()
                },
            )
            for line in model.lines
        ]
        model = dataclasses.replace(model, lines=lines)
    found = measured_range(model)
    assert found is not None, "the case's measured changes have no interval"
    return found.npv


def npv_gap(store: Any, truth: dict[str, Any]) -> NpvGap:
    """The NPV gap of examples/case.yaml on `store` and where it comes from."""
    from crmroi.casework.sources import attributed_changes, measured_changes
    from crmroi.finance.case import load_case
    from crmroi.finance.evaluate import evaluate_model
    from crmroi.finance.inputs import to_measured
    from crmroi.finance.model import build_model

    case = load_case(EXAMPLE)

    def true_value(kind: str) -> float:
        key = DRIVER_TRUTH[kind][0]
        return float(next(iter(truth["effects"][key].values()))) if key else 0.0

    def variant(exact: set[str]) -> Any:
        benefits = []
        for driver in case.benefits:
            if driver.kind in exact:
                update: dict[str, Any] = {"change": true_value(driver.kind)}
            else:
                update = {"change": "measured", "source": DRIVER_TRUTH[driver.kind][1]}
            benefits.append(driver.model_copy(update=update))
        return case.model_copy(update={"benefits": benefits})

    everything = variant(set())
    changes = measured_changes(store, bootstrap=200, seed=0)
    attributed = [
        d.kpi for d in everything.benefits if d.source == "attributed" and d.kpi is not None
    ]
    changes = {**changes, **attributed_changes(store, attributed)}

    def npv(exact: set[str]) -> tuple[float, Any]:
        """NPV (USD) of the variant with the drivers in `exact` at their true effects,
        and its model."""
        c = variant(exact)
        model = build_model(c, measured=to_measured(c, changes))
        return float(evaluate_model(model).summary.npv), model

    kinds = [d.kind for d in case.benefits]
    measured, model = npv(set())
    values = to_measured(everything, changes)
    by_kpi = {d.kind: d.kpi for d in everything.benefits}
    return NpvGap(
        simulated=simulated_npv_range(model, as_interval=True),
        simulated_min_max=simulated_npv_range(model, as_interval=False),
        measured=measured,
        true=npv(set(kinds))[0],
        one_true={k: npv({k})[0] for k in kinds},
        changes={
            k: (float(values[by_kpi[k]].value), true_value(k)) for k in kinds if by_kpi[k] in values
        },
    )


def run_company(
    design: str,
    seed: int,
    scale: float,
    npv: list[NpvGap] | None = None,
    only: tuple[str, ...] = (),
    draws: str | None = None,
) -> list[Row]:
    """Attribute one generated company and compare every KPI with its truth
    (`draws`: the demo's draws, `crmroi.demo.company.Design`; None: the design's own)."""
    from crmroi.attribution.workspace import Unavailable, attribute_workspace
    from crmroi.demo import generate_company, write_demo
    from crmroi.store import Store

    company = generate_company(scale=scale, seed=seed, design=design, draws=draws)
    truth = company.truth
    kpis = [k for k in truth["effects"] if not only or k in only]
    rows: list[Row] = []
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        store = Store.open(folder, create=True)
        try:
            write_demo(store, company, folder)
            index = _write_market_index(folder, truth) if design.startswith("single") else None
            results = attribute_workspace(store, kpis=kpis, market_index=index)
            if npv is not None and design == "phased":
                npv.append(npv_gap(store, truth))
        finally:
            store.close()
    for result in results:
        if isinstance(result, Unavailable):
            key, target = _target(truth, result.name, None)
            rows.append(Row(design, seed, result.name, target, False, notes=[result.reason]))
            continue
        key, target = _target(truth, result.name, result)
        scale_by = 1.0
        if key == "change_rel":
            if not result.effect_rel:
                rows.append(Row(design, seed, result.name, target, False, notes=result.notes))
                continue
            scale_by = result.effect / result.effect_rel
        has_interval = result.method != "naive" and result.ci_low == result.ci_low
        rows.append(
            Row(
                design,
                seed,
                result.name,
                target,
                has_interval,
                estimate=result.effect / scale_by,
                low=result.ci_low / scale_by,
                high=result.ci_high / scale_by,
                warned=any(n.startswith("warning") for n in result.notes),
                method=result.method,
                notes=result.notes,
            )
        )
    return rows


def retruth(rows: list[Row], scale: float, draws: str | None = None) -> None:
    """Set each row's truth from the current demo where the truth is realised on the rows
    (the estimates stay: the demo's tables are the same for the same seed and scale)."""
    from types import SimpleNamespace

    from crmroi.demo.company import realised_truth

    truths: dict[tuple[str, int], dict[str, Any]] = {}
    for row in rows:
        if not row.attributed:
            continue
        key = (row.design, row.seed)
        if key not in truths:
            truths[key] = realised_truth(scale=scale, seed=row.seed, design=row.design, draws=draws)
        result = SimpleNamespace(notes=row.notes, method=row.method)
        target = _realised_target(truths[key], row.kpi, result)
        if target is not None:
            row.truth = target


def _company(
    task: tuple[str, int, float, bool, tuple[str, ...], str | None],
) -> tuple[list[Row], NpvGap | None]:
    """One company's rows (and NPV gap with `npv` under the phased design), for a pool."""
    design, seed, scale, npv, only, draws = task
    gaps: list[NpvGap] = []
    found = run_company(design, seed, scale, gaps if npv else None, only, draws)
    return found, (gaps[0] if gaps else None)


def _share(flags: list[bool]) -> str:
    return f"{sum(flags)}/{len(flags)}" if flags else "-"


def summarise(rows: list[Row]) -> str:
    """The per-design, per-KPI table (and each design's overall line)."""
    out = []
    wide = max(8, *(len(r.design) for r in rows))
    header = (
        f"{'design':{wide}} {'kpi':22} {'attrib':>7} {'covered':>8} {'bias/eff':>9} {'+-mc':>6} "
        f"{'width':>9} {'excl. 0':>8} {'warned':>7}"
    )
    for design in dict.fromkeys(r.design for r in rows):
        out.append(header)
        these = [r for r in rows if r.design == design]
        for kpi in [*dict.fromkeys(r.kpi for r in these), "ALL"]:
            sel = [r for r in these if kpi in ("ALL", r.kpi)]
            ok = [r for r in sel if r.attributed and r.low is not None and r.high is not None]
            covered = [r.low <= r.truth <= r.high for r in ok]  # type: ignore[operator]
            excl = [not (r.low <= 0.0 <= r.high) for r in ok]  # type: ignore[operator]
            bias, error = "-", "-"
            if kpi != "ALL" and ok and sel[0].truth:
                misses = [r.estimate - r.truth for r in ok]  # type: ignore[operator]
                size = abs(statistics.fmean(r.truth for r in ok))
                bias = f"{statistics.fmean(misses) / size:+.1%}"
                if len(misses) > 1:  # Monte Carlo standard error of that mean
                    error = f"{statistics.stdev(misses) / len(misses) ** 0.5 / size:.0%}"
            width = (
                f"{statistics.fmean(r.high - r.low for r in ok):.4f}"  # type: ignore[operator]
                if ok and kpi != "ALL"
                else "-"
            )
            pct = f" {sum(covered) / len(covered):4.0%}" if covered else ""
            out.append(
                f"{design:{wide}} {kpi:22} {_share([r.attributed for r in sel]):>7} "
                f"{_share(covered):>8}{pct} {bias:>9} {error:>6} {width:>9} {_share(excl):>8} "
                f"{_share([r.warned for r in ok]):>7}"
            )
        out.append("")
    return "\n".join(out)


def npv_table(npvs: list[NpvGap]) -> str:
    """Per company the NPV gap, each driver's measured change against its truth and the
    gap left with that one driver at its true effect; then the medians."""
    out = []
    gaps = [abs(n.measured - n.true) / abs(n.true) for n in npvs]
    kinds = list(npvs[0].one_true)
    for n, g in zip(npvs, gaps, strict=True):
        out.append(
            f"NPV 36 months: measured {n.measured:,.0f}, at the true effects {n.true:,.0f} USD: "
            f"{g:.1%}"
        )
        for k in kinds:
            m, t = n.changes.get(k, (float("nan"), float("nan")))
            left = abs(n.one_true[k] - n.true) / abs(n.true)
            out.append(f"  {k:13} measured {m:+.4f} true {t:+.4f}; gap with it exact {left:.1%}")
    out.append(f"NPV gap, median over {len(gaps)} companies: {statistics.median(gaps):.1%}")
    for attr, label in (("simulated", "as intervals"), ("simulated_min_max", "as min-max")):
        ranges = [(getattr(n, attr), n.true) for n in npvs if getattr(n, attr) is not None]
        if ranges:
            held = sum(lo <= t <= hi for (lo, hi), t in ranges)
            width = statistics.median((hi - lo) / abs(t) for (lo, hi), t in ranges)
            out.append(
                f"  simulated 95% NPV range, measured changes drawn {label}: holds the NPV "
                f"at the true effects in {held}/{len(ranges)}; median width {width:.1%} of it"
            )
    for k in kinds:
        left = [abs(n.one_true[k] - n.true) / abs(n.true) for n in npvs]
        out.append(f"  median gap with {k} at its true effect: {statistics.median(left):.1%}")
    return "\n".join(out)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seeds", type=int, default=4, help="companies per design")
    parser.add_argument("--first-seed", type=int, default=1)
    parser.add_argument("--scale", type=float, default=0.5, help="demo scale (1 = 40 reps)")
    parser.add_argument("--designs", default=",".join(DESIGNS))
    parser.add_argument("--json", type=Path, help="write every comparison here")
    parser.add_argument(
        "--npv",
        action="store_true",
        help="phased design: NPV of examples/case.yaml with measured drivers vs true effects",
    )
    parser.add_argument(
        "--merge", type=Path, nargs="*", help="add the comparisons of earlier --json files"
    )
    parser.add_argument(
        "--retruth",
        action="store_true",
        help="compare the merged estimates with the current demo's truth where it is "
        "measured on the rows (realised_by_team_month); the data are the same draws",
    )
    parser.add_argument(
        "--jobs", type=int, default=1, help="companies built and attributed side by side"
    )
    parser.add_argument("--kpis", default="", help="only these KPIs (comma-separated)")
    parser.add_argument(
        "--draws",
        choices=("independent", "stratified"),
        help="the demo's draws (default: the demo's own; see crmroi.demo.company.Design)",
    )
    args = parser.parse_args()
    only = tuple(k for k in args.kpis.split(",") if k)
    designs = [d for d in args.designs.split(",") if d]
    unknown = sorted(set(designs) - set(DESIGNS))
    if unknown:
        parser.error(f"unknown design {', '.join(unknown)}; choose from {', '.join(DESIGNS)}")
    rows: list[Row] = []
    npvs: list[NpvGap] | None = [] if args.npv else None
    started = time.perf_counter()
    for path in args.merge or []:
        saved = json.loads(path.read_text())
        if isinstance(saved, list):  # rows only (before NPV gaps were kept)
            saved = {"rows": saved}
        rows.extend(Row(**r) for r in saved["rows"])
        if npvs is not None:
            npvs.extend(NpvGap(**n) for n in saved.get("npv", []))
    if args.retruth:
        retruth(rows, args.scale, args.draws)
    tasks = [
        (design, seed, args.scale, bool(args.npv), only, args.draws)
        for design in (designs if args.seeds else [])
        for seed in range(args.first_seed, args.first_seed + args.seeds)
    ]
    with ProcessPoolExecutor(max_workers=args.jobs) as pool:
        for (design, seed, *_), (found, gap) in zip(tasks, pool.map(_company, tasks), strict=True):
            rows.extend(found)
            if npvs is not None and gap is not None:
                npvs.append(gap)
            print(f"{design} seed {seed}: {time.perf_counter() - started:.0f} s", flush=True)
            if args.json:  # after every company, so a long run's part is kept
                npv_rows = [n.__dict__ for n in npvs or []]
                saved = {"rows": [r.__dict__ for r in rows], "npv": npv_rows}
                args.json.write_text(json.dumps(saved, indent=1, default=str))
    print(summarise(rows))
    if npvs:
        print(npv_table(npvs))


if __name__ == "__main__":
    main()
