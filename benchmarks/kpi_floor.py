"""The least database work any implementation of the KPI report needs, timed in DuckDB alone.

    .venv/bin/python benchmarks/kpi_floor.py --workspace /tmp/crmroi-bench-kpis-20

Why: issue 3 asks for the full KPI report at least 20 times faster than the pandas
reference (`bench_kpis.py`). This measures a lower bound for the engine's time
that no Python-side work can go under: the aggregates the KPIs cannot do without,
written by hand as plain SQL and run straight on the DuckDB connection (no Ibis,
no Arrow conversion to numpy, no KPI arithmetic, no bootstrap). Each table is
aggregated once, per account (the bootstrap's unit and what retention, upsell,
new customers and relationship concentration are defined on) or per rep, and per
time bucket of the demo's windows, exactly as the engine's cubes are keyed:

- activities per account, acting rep and bucket, with the call and visit counts
  (one scan serves the call KPIs and relationship concentration);
- closed deals per account, owner rep and bucket, with the won amounts;
- orders per account and bucket, and every account's first order (new customers);
- leads per owner rep, source and bucket, with conversions;
- tickets per account and bucket, with CSAT and cost.

Then the same on copies whose account and rep ids are integer codes (what an
integer surrogate key in the store would give), to show what a storage change
could buy. Prints each query's best time over `--repeat` runs and the totals.

`floor_seconds` (ids as stored, DuckDB's default threads) is what `bench_kpis.py`
compares `crmroi kpis` with, in the same run.
"""

from __future__ import annotations

import argparse
import datetime as dt
import resource
import time
from pathlib import Path

import duckdb


def bucket_sql(column: str, bounds: list[dt.datetime]) -> str:
    """The bucket (number of bounds at or before `column`) as a balanced tree of CASEs,
    log2(bounds) comparisons per row, as the engine writes it (a flat CASE over
    every bound is several times slower on 10 million rows)."""
    lits = [f"TIMESTAMP '{b:%Y-%m-%d %H:%M:%S}'" for b in bounds]

    def tree(lo: int, hi: int) -> str:
        if lo == hi:
            return str(lo)
        mid = (lo + hi + 1) // 2
        low, high = tree(lo, mid - 1), tree(mid, hi)
        return f"CASE WHEN {column} < {lits[mid - 1]} THEN {low} ELSE {high} END"

    return f"CASE WHEN {column} IS NULL THEN -1 ELSE {tree(0, len(bounds))} END"


def queries(bounds: list[dt.datetime], acc: str, rep: str, owner: str) -> dict[str, str]:
    """The aggregates; `acc`, `rep` and `owner` name the id columns to group on."""

    def b(col: str) -> str:
        return bucket_sql(col, bounds)

    return {
        "activities per account, rep, bucket": f"""
            SELECT {acc}, {rep}, {b("occurred_at")} AS b, count(*) AS n,
              sum(CASE WHEN kind = 'call' AND direction = 'inbound' THEN 1 ELSE 0 END)
                AS calls_in,
              sum(CASE WHEN kind = 'call' AND direction = 'outbound' THEN 1 ELSE 0 END)
                AS calls_out,
              sum(CASE WHEN kind = 'call' THEN 1 ELSE 0 END) AS calls,
              sum(CASE WHEN kind = 'visit' OR (kind = 'call' AND direction = 'outbound')
                  THEN 1 ELSE 0 END) AS visits
            FROM activities GROUP BY ALL""",
        "deals per account, owner, bucket": f"""
            SELECT {acc}, {owner}, {b("closed_at")} AS b, count(*) AS closed,
              sum(CASE WHEN is_won THEN 1 ELSE 0 END) AS won,
              sum(CASE WHEN is_won THEN amount ELSE 0 END) AS won_amount
            FROM deals WHERE closed_at IS NOT NULL AND (is_won OR is_closed) GROUP BY ALL""",
        "orders per account, bucket": f"""
            SELECT {acc}, {b("ordered_at")} AS b, count(*) AS n, sum(amount) AS amount,
              sum(amount - cost) AS margin
            FROM orders GROUP BY ALL""",
        "first order per account": f"SELECT {acc}, min(ordered_at) FROM orders GROUP BY ALL",
        "leads per owner, source, bucket": f"""
            SELECT {owner}, source, {b("created_at")} AS b, count(*) AS n,
              count(converted_at) AS converted
            FROM leads GROUP BY ALL""",
        "tickets per account, bucket": f"""
            SELECT {acc}, {b("opened_at")} AS b, count(*) AS n, sum(csat) AS csat,
              sum(cost) AS cost
            FROM tickets GROUP BY ALL""",
    }


def coded_copies(con: duckdb.DuckDBPyConnection) -> None:
    """Temporary copies of the tables with integer account and rep codes."""
    con.execute(
        "CREATE TEMP TABLE acc_codes AS SELECT account_id, "
        "CAST(row_number() OVER () AS INTEGER) AS code FROM "
        "(SELECT account_id FROM accounts UNION SELECT account_id FROM activities)"
    )
    con.execute(
        "CREATE TEMP TABLE rep_codes AS SELECT rep_id, "
        "CAST(row_number() OVER () AS INTEGER) AS code FROM "
        "(SELECT rep_id FROM reps UNION SELECT rep_id FROM activities)"
    )
    for table, acc, rep in (
        ("activities", "account_id", "rep_id"),
        ("deals", "account_id", "owner_rep_id"),
        ("orders", "account_id", None),
        ("leads", "account_id", "owner_rep_id"),
        ("tickets", "account_id", None),
    ):
        joins = f"LEFT JOIN acc_codes a ON t.{acc} = a.account_id"
        cols = "a.code AS acc_code"
        if rep:
            joins += f" LEFT JOIN rep_codes r ON t.{rep} = r.rep_id"
            cols += ", r.code AS rep_code"
        con.execute(f"CREATE TEMP TABLE coded_{table} AS SELECT t.*, {cols} FROM {table} t {joins}")


def cpu_seconds() -> float:
    """User + system CPU time of this process so far (every thread), seconds."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def best_run(con: duckdb.DuckDBPyConnection, sql: str, repeat: int) -> tuple[float, float, int]:
    """Best wall time (s) of `sql` over `repeat` runs, that run's CPU time (s), rows."""
    runs, rows = [], 0
    for _ in range(repeat):
        started, cpu = time.perf_counter(), cpu_seconds()
        rows = con.execute(sql).to_arrow_table().num_rows
        runs.append((time.perf_counter() - started, cpu_seconds() - cpu))
    seconds, cpu = min(runs)
    return seconds, cpu, rows


def best(con: duckdb.DuckDBPyConnection, sql: str, repeat: int) -> tuple[float, int]:
    """Best wall time (s) of `sql` over `repeat` runs, and its rows."""
    seconds, _, rows = best_run(con, sql, repeat)
    return seconds, rows


def report_bounds(workspace: Path) -> list[dt.datetime]:
    """The window edges of the workspace's report (as the engine buckets them)."""
    from crmroi.kpi.buckets import Buckets
    from crmroi.kpi.engine import did_groups
    from crmroi.kpi.windows import resolve_windows
    from crmroi.store import Store

    with Store.open(workspace) as store:
        windows = resolve_windows(store.settings(), None, 12, 12)
    evaluations = [windows, *(g.windows for g in did_groups(windows))]
    return Buckets(evaluations, list(windows.by_team)).edges


def floor_seconds(workspace: Path, repeat: int = 3) -> dict[str, float]:
    """The floor as `bench_kpis.py` uses it: every aggregate on the ids as stored, with
    DuckDB's default threads; the sums of each query's best wall time and of that
    run's CPU time (s)."""
    bounds = report_bounds(workspace)
    con = duckdb.connect(str(workspace / "workspace.duckdb"), read_only=True)
    try:
        runs = [
            best_run(con, sql, repeat)
            for sql in queries(bounds, "account_id", "rep_id", "owner_rep_id").values()
        ]
    finally:
        con.close()
    return {"seconds": sum(r[0] for r in runs), "cpu_seconds": sum(r[1] for r in runs)}


def timings(
    con: duckdb.DuckDBPyConnection, bounds: list[dt.datetime], repeat: int
) -> dict[str, tuple[float, float, int]]:
    """Per aggregate: best seconds with string ids, with integer codes, and rows."""
    plain = queries(bounds, "account_id", "rep_id", "owner_rep_id")
    coded = queries(bounds, "acc_code", "rep_code", "rep_code")
    out = {}
    for name, sql in plain.items():
        coded_sql = coded[name]
        for table in ("activities", "deals", "orders", "leads", "tickets"):
            coded_sql = coded_sql.replace(f"FROM {table} ", f"FROM coded_{table} ")
        seconds, rows = best(con, sql, repeat)
        out[name] = (seconds, best(con, coded_sql, repeat)[0], rows)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workspace", type=Path, default=Path("/tmp/crmroi-bench-kpis-20"))
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--threads", type=int, nargs="+", default=[1, 2])
    args = parser.parse_args()

    from rich.console import Console
    from rich.table import Table

    bounds = report_bounds(args.workspace)
    con = duckdb.connect(str(args.workspace / "workspace.duckdb"), read_only=True)
    coded_copies(con)
    table = Table(title=f"Least database work of the KPI report (DuckDB {duckdb.__version__})")
    table.add_column("aggregate")
    table.add_column("rows", justify="right")
    for n in args.threads:
        table.add_column(f"{n} thread(s), ids as stored", justify="right")
        table.add_column(f"{n} thread(s), integer ids", justify="right")
    results = []
    for n in args.threads:
        con.execute(f"SET threads = {n}")
        results.append(timings(con, bounds, args.repeat))
    for name, (_, _, rows) in results[0].items():
        cells = [f"{r[name][k]:.3f} s" for r in results for k in (0, 1)]
        table.add_row(name, f"{rows:,}", *cells)
    totals = [f"{sum(v[k] for v in r.values()):.3f} s" for r in results for k in (0, 1)]
    table.add_row("total", "", *totals, style="bold")
    Console().print(table)


if __name__ == "__main__":
    main()
