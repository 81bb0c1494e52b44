"""The full KPI report on a large demo workspace versus a straightforward pandas implementation.

    .venv/bin/python benchmarks/bench_kpis.py --scale 20

Builds (once, then reuses) a `--scale` demo workspace in `--workspace`, then runs in
separate processes, so that each peak memory is its own:

1. crmroi: `compute_kpi_report` with the demo's phased roll-out: every KPI, each
   team over its own windows, plus the difference-in-differences evaluations,
   without intervals (`--bootstrap 0`) and with 500 bootstrap replicates;
2. pandas: every table read into pandas, then the same KPIs' baseline and after
   values with groupbys and maps (`tests/test_kpi_reference.py`, which the tests
   also use as the independent reference). Rows are placed in their team's windows
   with dictionary maps (vectorised); until November 2026 the reference mapped
   every row through a Python lambda, which made pandas about 4 times slower (136 s
   instead of 35 s at scale 20) for the same numbers, an unfair baseline.

Prints both times, the ratio and each run's peak resident memory. Not a test.

With `--by rep` (or team, segment, source) the crmroi runs group the report
(`crmroi kpis --by rep`: every group's values, intervals and net changes); pandas,
which has no groups, is not run then:

    .venv/bin/python benchmarks/bench_kpis.py --scale 20 --by rep --repeat 2
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from rich.console import Console

ROOT = Path(__file__).resolve().parents[1]


def _peak_mb() -> float:
    """Peak resident memory of this process, VmHWM from /proc/self/status (ru_maxrss
    would carry the size of the parent that built the workspace across fork and exec)."""
    with open("/proc/self/status", encoding="ascii") as status:
        for line in status:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return 0.0


def run_engine(workspace: Path, bootstrap: int, by: str | None = None) -> dict[str, float]:
    from crmroi.kpi import compute_kpi_report
    from crmroi.store import Store

    with Store.open(workspace) as store:
        started = time.perf_counter()
        report = compute_kpi_report(store, bootstrap=bootstrap, by=by)
        seconds = time.perf_counter() - started
    available = sum(k.available for k in report.kpis)
    return {"seconds": seconds, "peak_mb": _peak_mb(), "kpis": available}


def run_pandas(workspace: Path) -> dict[str, float]:
    import datetime as dt

    sys.path.insert(0, str(ROOT))
    from tests.test_kpi_reference import Ref, pandas_kpis, read_frames

    from crmroi.store import Store

    with Store.open(workspace) as store:
        started = time.perf_counter()
        frames = read_frames(store)
        loaded = time.perf_counter()
        teams = {
            t: dt.date.fromisoformat(d) for t, d in store.settings()["go_live_by_team"].items()
        }
        values = pandas_kpis(Ref(frames, min(teams.values()), teams))
        done = time.perf_counter()
    return {
        "seconds": done - started,
        "load_seconds": loaded - started,
        "compute_seconds": done - loaded,
        "peak_mb": _peak_mb(),
        "kpis": len(values),
    }


def child(*args: str) -> dict[str, float]:
    out = subprocess.run(
        [sys.executable, __file__, *args], capture_output=True, text=True, check=True
    )
    return dict(json.loads(out.stdout.strip().splitlines()[-1]))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", type=float, default=20.0)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--workspace", type=Path, default=None)
    parser.add_argument("--phase", choices=["engine", "pandas"], default=None)
    parser.add_argument("--bootstrap", type=int, default=0)
    parser.add_argument("--repeat", type=int, default=1, help="rounds (the machine may be busy)")
    parser.add_argument(
        "--by", choices=["team", "rep", "segment", "source"], default=None,
        help="group the report (the crmroi runs only: pandas has no groups)",
    )  # fmt: skip
    args = parser.parse_args()
    workspace = args.workspace or Path(f"/tmp/crmroi-bench-kpis-{args.scale:g}")
    if args.phase == "engine":
        print(json.dumps(run_engine(workspace, args.bootstrap, args.by)))
        return
    if args.phase == "pandas":
        print(json.dumps(run_pandas(workspace)))
        return
    from rich.console import Console
    from rich.table import Table

    from crmroi.demo import generate_company, write_demo
    from crmroi.store import Store

    console = Console()
    if not (workspace / "workspace.duckdb").exists():
        started = time.perf_counter()
        with Store.open(workspace, create=True) as store:
            counts = write_demo(store, generate_company(args.scale, args.seed), workspace)
        console.print(
            f"built {workspace} (scale {args.scale:g}) in {time.perf_counter() - started:.0f} s: "
            + ", ".join(f"{n} {c:,}" for n, c in counts.items() if c)
        )
    ws = str(workspace)
    if args.by:
        _grouped(console, ws, args.scale, args.by, args.repeat)
        return
    table = Table(title=f"KPI report, demo scale {args.scale:g}")
    for col in ("round", "run", "seconds", "peak memory", "pandas / run"):
        table.add_column(col, justify="left" if col == "run" else "right")
    for round_ in range(1, args.repeat + 1):  # each round: the three runs back to back
        engine = child("--phase", "engine", "--workspace", ws, "--bootstrap", "0")
        boot = child("--phase", "engine", "--workspace", ws, "--bootstrap", "500")
        pandas = child("--phase", "pandas", "--workspace", ws)
        for name, r in (("crmroi (Ibis on DuckDB), no intervals", engine),
                        ("crmroi, 500 bootstrap replicates (the `crmroi kpis` default)", boot),
                        ("pandas (read + compute)", pandas)):  # fmt: skip
            ratio = pandas["seconds"] / r["seconds"]
            table.add_row(
                str(round_), name, f"{r['seconds']:.1f}", f"{r['peak_mb']:,.0f} MB", f"{ratio:.1f}x"
            )
        console.print(
            f"round {round_}: pandas {pandas['load_seconds']:.1f} s reading the tables, "
            f"{pandas['compute_seconds']:.1f} s computing"
        )
    console.print(table)


def _grouped(console: Console, ws: str, scale: float, by: str, repeat: int) -> None:
    """The grouped report (`--by`), without and with 500 replicates, `repeat` rounds."""
    from rich.table import Table

    table = Table(title=f"KPI report --by {by}, demo scale {scale:g}")
    for col in ("round", "run", "seconds", "peak memory", "available rows"):
        table.add_column(col, justify="left" if col == "run" else "right")
    for round_ in range(1, repeat + 1):
        for name, reps in (("crmroi, no intervals", "0"),
                           ("crmroi, 500 bootstrap replicates", "500")):  # fmt: skip
            r = child("--phase", "engine", "--workspace", ws, "--bootstrap", reps, "--by", by)
            table.add_row(
                str(round_), name, f"{r['seconds']:.1f}", f"{r['peak_mb']:,.0f} MB",
                f"{r['kpis']:,.0f}",
            )  # fmt: skip
    console.print(table)


if __name__ == "__main__":
    main()
