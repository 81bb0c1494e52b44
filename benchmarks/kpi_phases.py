"""Where the time of one KPI report goes: per cube query, label coding, bootstrap, the rest.

    .venv/bin/python benchmarks/kpi_phases.py --workspace /tmp/ws20 [--bootstrap 500]

Runs `compute_kpi_report` once (as `crmroi kpis` does, without writing the table)
and prints the wall and CPU time (user + system, every thread) of each phase:
every cube's database query (Ibis compilation, the engine and the Arrow result,
named by the cube function), coding the cube's labels and filling in the account
and rep lookups in numpy, the bootstrap's replicate sums (with the Poisson
weights made and multiplied block by block apart), and the report as a whole;
the 1-minute load average at the end. Phases nest (the bootstrap holds the
weights): each line is its own total, the lines do not add up. Not a test; wall
times on a shared machine move with the load.

With `--queries N` each cube's SQL (as compiled for DuckDB in that run) is then run
again N times straight on a read-only DuckDB connection and its best CPU time
printed: the queries' own cost, comparable with `kpi_floor.py`'s best of 3.
"""

from __future__ import annotations

import argparse
import os
import resource
import time
import traceback
from collections import defaultdict
from collections.abc import Callable
from pathlib import Path
from typing import Any


def _cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workspace", type=Path, default=Path("/tmp/crmroi-bench-kpis-20"))
    parser.add_argument("--bootstrap", type=int, default=500)
    parser.add_argument("--queries", type=int, default=0, help="rerun each cube query N times")
    args = parser.parse_args()

    import ibis.expr.types.core as core

    from crmroi.kpi import engine, facts, intervals
    from crmroi.store import Store

    totals: dict[str, list[float]] = defaultdict(lambda: [0.0, 0.0, 0])

    def timed(owner: Any, name: str, label: Callable[..., str] | str) -> None:
        original = getattr(owner, name, None)
        if original is None:  # older code without this phase
            return

        def wrapper(*a: Any, **k: Any) -> Any:
            started, cpu = time.perf_counter(), _cpu()
            try:
                return original(*a, **k)
            finally:
                key = label(*a) if callable(label) else label
                entry = totals[key]
                entry[0] += time.perf_counter() - started
                entry[1] += _cpu() - cpu
                entry[2] += 1

        setattr(owner, name, wrapper)

    sqls: list[tuple[str, str]] = []

    def query_name(expr: Any, *_: Any) -> str:
        stack = [f.name for f in traceback.extract_stack()]
        names = [n for n in stack if n.endswith("_cube") and n != "fetch_cube"]
        if "lookups" in stack:
            name = "account and rep lookups (once)"
        else:
            name = names[-1] if names else "counts, spans, filled columns"
        if args.queries and names and "memtable" not in (sql := str(expr.compile())):
            sqls.append((name, sql))
        return f"query: {name}"

    timed(core.Expr, "to_pyarrow", query_name)
    timed(facts, "coded_columns", "label coding (cube rows)")
    timed(facts.Ctx, "cube", "cubes: queries, coding, lookups (numpy), second aggregate")
    timed(intervals.BootstrapWeights, "flush", "bootstrap: replicate sums")
    timed(intervals, "weighted_sums", "bootstrap: Poisson weights and products, in blocks")
    with Store.open(args.workspace) as store:
        started, cpu = time.perf_counter(), _cpu()
        engine.compute_kpi_report(store, bootstrap=args.bootstrap)
        totals["the report (compute_kpi_report)"] = [time.perf_counter() - started, _cpu() - cpu, 1]

    from rich.console import Console
    from rich.table import Table

    table = Table(title=f"KPI report phases, {args.workspace}, {args.bootstrap} replicates")
    for col in ("phase", "calls", "seconds", "CPU seconds"):
        table.add_column(col, justify="left" if col == "phase" else "right")
    for key, (wall, cpu_s, calls) in sorted(totals.items(), key=lambda kv: -kv[1][1]):
        table.add_row(key, str(int(calls)), f"{wall:.2f}", f"{cpu_s:.2f}")
    Console().print(table)
    Console().print(f"load average (1 minute) at the end: {os.getloadavg()[0]:.1f}")
    if sqls:
        _rerun(args.workspace, sqls, args.queries)


def _rerun(workspace: Path, sqls: list[tuple[str, str]], repeat: int) -> None:
    """Each query's best CPU (and that run's wall) time over `repeat` runs, in DuckDB alone."""
    import duckdb

    con = duckdb.connect(str(workspace / "workspace.duckdb"), read_only=True)
    total = 0.0
    for name, sql in sqls:
        runs = []
        for _ in range(repeat):
            started, cpu = time.perf_counter(), _cpu()
            rows = con.execute(sql).to_arrow_table().num_rows
            runs.append((_cpu() - cpu, time.perf_counter() - started))
        cpu_s, wall = min(runs)
        total += cpu_s
        print(f"{name:32s} {rows:9,d} rows  best CPU {cpu_s:.3f} s  (wall {wall:.3f} s)")
    print(f"{'cube queries':32s} total best CPU {total:.2f} s")


if __name__ == "__main__":
    main()
