"""The KPI report with and without its cube queries sent ahead, alternating in one process.

    .venv/bin/python benchmarks/kpi_prefetch_ab.py --workspace /tmp/kpi19-ws --rounds 5

`crmroi kpis WORKSPACE --bootstrap 500` (its table to /dev/null) runs once to warm up,
then `--rounds` times with the prefetch worker (`crmroi.kpi.prefetch`) and without it,
one after the other, so that the drift of a shared machine falls on both alike. Prints
each run's wall and CPU time (user + system, every thread) and the medians. Not a test.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import resource
import statistics
import time
from pathlib import Path


def _cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workspace", type=Path, required=True)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--bootstrap", type=int, default=500)
    args = parser.parse_args()

    import crmroi.kpi.engine as engine
    from crmroi.cli import app

    prefetchable = engine.prefetchable

    def run(ahead: bool) -> tuple[float, float]:
        engine.prefetchable = prefetchable if ahead else (lambda store: False)
        started, cpu = time.perf_counter(), _cpu()
        command = ["kpis", str(args.workspace), "--bootstrap", str(args.bootstrap)]
        with open(os.devnull, "w") as sink, contextlib.redirect_stdout(sink):
            app(command, standalone_mode=False)
        return time.perf_counter() - started, _cpu() - cpu

    run(True)  # imports and first touches
    runs: dict[str, list[tuple[float, float]]] = {"sent ahead": [], "one after the other": []}
    for _ in range(args.rounds):
        for name in runs:
            runs[name].append(run(name == "sent ahead"))
    for name, found in runs.items():
        walls = ", ".join(f"{w:.2f}" for w, _ in found)
        wall = statistics.median(w for w, _ in found)
        cpu = statistics.median(c for _, c in found)
        print(f"{name}: wall {walls} s (median {wall:.2f}), CPU median {cpu:.2f} s")


if __name__ == "__main__":
    main()
