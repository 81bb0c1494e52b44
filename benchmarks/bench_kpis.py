"""The full KPI report on a large demo workspace against the floor and a pandas implementation.

    .venv/bin/python benchmarks/bench_kpis.py --scale 20 --repeat 2

Builds (once, then reuses) a `--scale` demo workspace in `--workspace`, then runs in
separate processes, one after the other in each round, so that each peak memory is
the process's own (VmHWM, not the parent that built the workspace):

1. the floor: `benchmarks/kpi_floor.py`'s aggregates (the least database work of the
   report, plain SQL on DuckDB, ids as stored, each query's best of 3 runs);
2. `crmroi kpis WORKSPACE` as a user runs it (500 bootstrap replicates, the table
   written to /dev/null): the report's own time (open the workspace, compute, write)
   and the whole command's (the Python process from start to exit);
3. crmroi: `compute_kpi_report` with the demo's phased roll-out: every KPI, each
   team over its own windows, plus the difference-in-differences evaluations,
   without intervals (`--bootstrap 0`) and with 500 bootstrap replicates;
4. pandas (unless `--no-pandas`): every table read into pandas, then the same KPIs'
   baseline and after values with groupbys and maps (`tests/test_kpi_reference.py`,
   which the tests also use as the independent reference). Rows are placed in their
   team's windows with dictionary maps (vectorised); until November 2026 the reference
   mapped every row through a Python lambda, which made pandas about 4 times slower
   (136 s instead of 35 s at scale 20) for the same numbers, an unfair baseline.

Prints each run's wall time, CPU time (user + system, every thread), peak resident
memory, its ratio to the floor of the same round and the load average when it
ended: on a shared machine the wall times of one round are comparable with each
other only. Not a test.

With `--by rep` (or team, segment, source) the crmroi runs group the report
(`crmroi kpis --by rep`: every group's values, intervals and net changes); pandas,
which has no groups, is not run then:

    .venv/bin/python benchmarks/bench_kpis.py --scale 20 --by rep --repeat 2
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import resource
import subprocess
import sys
import tempfile
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


def _cpu() -> float:
    """User + system CPU seconds of this process so far (every thread)."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def _main_cpu() -> float:
    """User + system CPU seconds of the calling thread so far (run from the main
    thread: the one that builds the queries and forms every KPI, the report's
    critical path; the database's threads, the prefetch worker and the bootstrap's
    lanes are not in it)."""
    usage = resource.getrusage(resource.RUSAGE_THREAD)
    return usage.ru_utime + usage.ru_stime


def run_floor(workspace: Path) -> dict[str, float]:
    sys.path.insert(0, str(ROOT / "benchmarks"))
    from kpi_floor import floor_seconds

    return {**floor_seconds(workspace), "peak_mb": _peak_mb()}


def run_cli(workspace: Path, bootstrap: int) -> dict[str, float]:
    """`crmroi kpis WORKSPACE --bootstrap N` in this process, its table to /dev/null."""
    started = time.perf_counter()
    from crmroi.cli import app

    loaded, cpu, main_cpu = time.perf_counter(), _cpu(), _main_cpu()
    args = ["kpis", str(workspace), "--bootstrap", str(bootstrap)]
    with open(os.devnull, "w") as sink, contextlib.redirect_stdout(sink):
        app(args, standalone_mode=False)
    done = time.perf_counter()
    return {
        "seconds": done - loaded, "cpu_seconds": _cpu() - cpu,
        "main_cpu": _main_cpu() - main_cpu, "process_main_cpu": _main_cpu(),
        "import_seconds": loaded - started, "peak_mb": _peak_mb(),
    }  # fmt: skip


def run_engine(workspace: Path, bootstrap: int, by: str | None = None) -> dict[str, float]:
    from crmroi.kpi import compute_kpi_report
    from crmroi.store import Store

    with Store.open(workspace) as store:
        started, cpu, main_cpu = time.perf_counter(), _cpu(), _main_cpu()
        report = compute_kpi_report(store, bootstrap=bootstrap, by=by)
        seconds, cpu = time.perf_counter() - started, _cpu() - cpu
        main_cpu = _main_cpu() - main_cpu
    available = sum(k.available for k in report.kpis)
    return {"seconds": seconds, "cpu_seconds": cpu, "main_cpu": main_cpu,
            "peak_mb": _peak_mb(), "kpis": available}  # fmt: skip


def run_pandas(workspace: Path) -> dict[str, float]:
    import datetime as dt

    sys.path.insert(0, str(ROOT))
    from tests.test_kpi_reference import Ref, pandas_kpis, read_frames

    from crmroi.store import Store

    with Store.open(workspace) as store:
        started, cpu = time.perf_counter(), _cpu()
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
        "cpu_seconds": _cpu() - cpu,
        "peak_mb": _peak_mb(),
        "kpis": len(values),
    }


def child(*args: str) -> dict[str, float]:
    """Run a phase in a process of its own: its result, plus the whole process's wall
    time, its CPU time (user + system of every thread, from wait4) and the 1-minute
    load average when it ended."""
    with tempfile.TemporaryFile("w+") as out, tempfile.TemporaryFile("w+") as err:
        started = time.perf_counter()
        proc = subprocess.Popen([sys.executable, __file__, *args], stdout=out, stderr=err)
        _, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - started
        proc.returncode = os.waitstatus_to_exitcode(status)  # reaped here, not by Popen
        out.seek(0)
        err.seek(0)
        if proc.returncode:
            raise RuntimeError(f"{args}: exit {proc.returncode}\n{err.read()}")
        result = dict(json.loads(out.read().strip().splitlines()[-1]))
    cpu = usage.ru_utime + usage.ru_stime
    return result | {"process_seconds": wall, "process_cpu": cpu, "load": os.getloadavg()[0]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", type=float, default=20.0)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--workspace", type=Path, default=None)
    parser.add_argument("--phase", choices=["engine", "pandas", "floor", "cli"], default=None)
    parser.add_argument("--no-pandas", action="store_true", help="skip the pandas runs")
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
    if args.phase == "floor":
        print(json.dumps(run_floor(workspace)))
        return
    if args.phase == "cli":
        print(json.dumps(run_cli(workspace, args.bootstrap)))
        return
    from rich.console import Console

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
    _rounds(console, ws, args.scale, args.repeat, not args.no_pandas)


def _rounds(console: Console, ws: str, scale: float, repeat: int, pandas: bool) -> None:
    """`repeat` rounds of the floor, `crmroi kpis` and the other runs, back to back."""
    from rich.table import Table

    table = Table(title=f"KPI report, demo scale {scale:g}")
    cols = ("round", "run", "seconds", "CPU seconds", "main thread CPU", "peak memory",
            "run / floor", "CPU / floor CPU", "load")  # fmt: skip
    for col in cols:
        table.add_column(col, justify="left" if col == "run" else "right")
    for round_ in range(1, repeat + 1):  # each round: the runs back to back
        floor = child("--phase", "floor", "--workspace", ws)
        cli = child("--phase", "cli", "--workspace", ws, "--bootstrap", "500")
        command = cli | {
            "seconds": cli["process_seconds"], "cpu_seconds": cli["process_cpu"],
            "main_cpu": cli["process_main_cpu"],
        }  # fmt: skip
        runs = [
            ("floor: kpi_floor.py's aggregates (best of 3 each)", floor),
            ("`crmroi kpis` (500 replicates): the report", cli),
            ("`crmroi kpis`: the whole command (Python start to exit)", command),
            ("compute_kpi_report, no intervals",
             child("--phase", "engine", "--workspace", ws, "--bootstrap", "0")),
            ("compute_kpi_report, 500 replicates",
             child("--phase", "engine", "--workspace", ws, "--bootstrap", "500")),
        ]  # fmt: skip
        if pandas:
            p = child("--phase", "pandas", "--workspace", ws)
            runs.append((f"pandas (read {p['load_seconds']:.1f} s + compute)", p))
        for name, r in runs:
            table.add_row(
                str(round_), name, f"{r['seconds']:.2f}", f"{r['cpu_seconds']:.2f}",
                f"{r['main_cpu']:.2f}" if "main_cpu" in r else "-", f"{r['peak_mb']:,.0f} MB",
                f"{r['seconds'] / floor['seconds']:.2f}x",
                f"{r['cpu_seconds'] / floor['cpu_seconds']:.2f}x", f"{r['load']:.1f}",
            )  # fmt: skip
    console.print(table)
    console.print(
        "CPU seconds: user + system, every thread, of the timed part (the floor: of its best "
        "runs); main thread CPU: of the Python thread that builds the queries and forms "
        "the KPIs, the report's critical path (a run's wall time cannot go under it); "
        "run / floor: wall time over the same round's floor (CPU / floor CPU: the same "
        "for CPU time, the figure to compare on a busy machine); load: 1-minute load "
        "average when the run ended"
    )


def _grouped(console: Console, ws: str, scale: float, by: str, repeat: int) -> None:
    """The grouped report (`--by`), without and with 500 replicates, `repeat` rounds."""
    from rich.table import Table

    table = Table(title=f"KPI report --by {by}, demo scale {scale:g}")
    for col in ("round", "run", "seconds", "peak memory", "available rows", "load"):
        table.add_column(col, justify="left" if col == "run" else "right")
    for round_ in range(1, repeat + 1):
        for name, reps in (("crmroi, no intervals", "0"),
                           ("crmroi, 500 bootstrap replicates", "500")):  # fmt: skip
            r = child("--phase", "engine", "--workspace", ws, "--bootstrap", reps, "--by", by)
            table.add_row(
                str(round_), name, f"{r['seconds']:.1f}", f"{r['peak_mb']:,.0f} MB",
                f"{r['kpis']:,.0f}", f"{r['load']:.1f}",
            )  # fmt: skip
    console.print(table)


if __name__ == "__main__":
    main()
