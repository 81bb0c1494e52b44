"""`/healthz` and `/login` latency while a large CSV is uploaded and checked (a dry run),
or while business cases are evaluated.

    .venv/bin/python benchmarks/health_during_upload.py --mb 40 [--parse-only] [--runs 3]
    .venv/bin/python benchmarks/health_during_upload.py --evaluate [--runs 3]

Issue 17's target: `/healthz` and the login page answer within 100 ms while an import or
an evaluation runs. Starts `crmroi serve` on the `load_web.py` demo workspace (built once;
the server's environment is passed through, so `CRMROI_WORKER_KIND=thread` measures the
thread pool), with its cache warm-up on (the default: it copies the workspace for the
worker processes, computes the dashboard and fits the Improve models there, then settles
the server's heap, `crmroi.web.heap`), loads the dashboard once, and waits until the
server and its worker processes are idle, then starts two probe processes, each with its
own connection: one asks `GET /healthz`, the other `GET /login` (the login page,
rendered), each every 10 ms, in processes of their own so that sending a 40 MB body from
this one does not delay them. Meanwhile it sends a `--mb` MB deals CSV to
`POST /api/v1/imports` with `dry_run` (the file is read, mapped, linked and summarised;
nothing is written), `--runs` times.
`--parse-only` sends an unknown `source`, so only the multipart body is received and
parsed (streamed to a file by the event loop, parsed in the work pool:
`crmroi.web.streamed_form`) and refused with 422. `--evaluate` instead sends the
workspace's business case (which measures its drivers on the workspace: KPI reports with
their bootstrap, then the Monte Carlo) to `POST /api/v1/cases/default/evaluate`, each
time with another comment line so that it is computed, not taken from the cache.

Prints, per probe, the number of answers and p50/p95/p99/max in ms before the uploads
(`IDLE_SECONDS` idle) and during them (from the first byte sent to the last answer received), and
when the slowest ones came. A probe's time is the client's wall time for one request,
on the same two shared cores as the server: the load average is printed too, and the
CPU time the server's own process used during the uploads (its worker processes apart).
`--quiet` sends the uploads without probes: that CPU time is then the part of the
uploads' work that ran in the process whose interpreter lock the event loop needs, a
figure that does not depend on the machine's load as the probes' times do.
Not a timed test: the figures depend on the machine.
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import re
import sys
import time
from pathlib import Path
from typing import Any

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent))
import load_web  # the server, login and workspace of the load check)

MAPPING = """
source_system: upload_check
tables:
  - entity: deals
    columns: {deal_id: Deal, account_id: Account, amount: Amount, closed_at: Closed,
              is_won: {column: Won, map: {yes: true, no: false}}}
"""


def write_csv(path: Path, megabytes: float) -> None:
    """A deals CSV of about `megabytes` MB (made once per size)."""
    if path.exists() and path.stat().st_size >= megabytes * 1e6:
        return
    with path.open("w") as f:
        f.write("Deal,Account,Amount,Closed,Won\n")
        i = 0
        while f.tell() < megabytes * 1e6:
            f.write(f"d{i},acct{i % 977},{i % 5000}.5,2024-01-{1 + i % 28:02d},yes\n")
            i += 1


PROBES = ("/healthz", "/login")
IDLE_SECONDS = 1.0  # probes before the first upload


def percentiles(seconds: list[float]) -> str:
    """'n answers, p50 .. p95 .. p99 .. max ..' in ms (nearest rank)."""
    if not seconds:
        return "no answers"
    ordered = sorted(seconds)

    def rank(q: float) -> float:
        return 1000 * ordered[min(len(ordered) - 1, int(q * len(ordered)))]

    return (
        f"{len(ordered):4d} answers, p50 {rank(0.5):4.0f}, p95 {rank(0.95):4.0f}, "
        f"p99 {rank(0.99):4.0f}, max {1000 * ordered[-1]:4.0f} ms"
    )


def poll(base: str, path: str, stop: Any, results: Any) -> None:
    """In a probe process: GET `path` every 10 ms until `stop`; (when, seconds) pairs."""
    answers: list[tuple[float, float]] = []
    with httpx.Client(base_url=base, timeout=120) as h:
        while not stop.is_set():
            started = time.monotonic()
            status = h.get(path).status_code
            if status != 200:
                raise SystemExit(f"{path}: HTTP {status}")
            answers.append((started, time.monotonic() - started))
            time.sleep(0.01)
    results.put((path, answers))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mb", type=float, default=40.0, help="CSV size (under the 50 MB limit)")
    parser.add_argument("--parse-only", action="store_true")
    parser.add_argument("--runs", type=int, default=1, help="uploads, one after the other")
    parser.add_argument(
        "--evaluate", action="store_true", help="evaluate the business case, not an upload"
    )
    parser.add_argument("--bootstrap", type=int, default=20, help="the server's KPI replicates")
    parser.add_argument("--simulation-runs", type=int, default=200, help="the server's runs")
    parser.add_argument("--quiet", action="store_true", help="no probes: the server's CPU only")
    parser.add_argument("--workspace", type=Path, default=Path("/tmp/crmroi-load-web-scale1"))
    args = parser.parse_args()
    load_web.build_workspace(args.workspace, 1.0, 1)
    csv = None if args.evaluate else Path(f"/tmp/crmroi-upload-check-{args.mb:g}mb.csv")
    if csv is not None:
        write_csv(csv, args.mb)
    port = load_web.free_port()
    base = f"http://127.0.0.1:{port}"
    server_args = argparse.Namespace(simulation_runs=args.simulation_runs, bootstrap=args.bootstrap)
    server = load_web.start_server(args.workspace, port, server_args)
    checks: dict[str, list[tuple[float, float]]] = {p: [] for p in PROBES}  # (when, seconds)
    uploads: list[tuple[float, float, int]] = []  # (start, end, HTTP status)
    answer_bytes = 0
    try:
        load_web.wait_until_up(base, server)
        cookies = load_web.login(base)
        with httpx.Client(base_url=base, cookies=cookies, timeout=30) as c:
            dashboard = c.get("/dashboard", timeout=900)  # cold: computed once
            found = re.search(r'"X-CSRF-Token": "([^"]+)"', dashboard.text)
            assert found, "no CSRF token on the dashboard"
        print(
            f"waited {load_web.wait_until_idle(server.pid):.0f} s for the server's warm-up to end"
        )
        data = {"dry_run": "true"} | ({"source": "not-a-source"} if args.parse_only else {})
        files = [
            ("files", ("deals.csv", csv.read_bytes() if csv else b"", "text/csv")),
            ("mapping", ("mapping.yaml", MAPPING.encode(), "text/yaml")),
        ]
        case_text = (args.workspace / "case.yaml").read_text()
        stop = multiprocessing.get_context("fork").Event()  # no threads here yet
        results = multiprocessing.get_context("fork").Queue()
        pollers = [
            multiprocessing.get_context("fork").Process(
                target=poll, args=(base, p, stop, results), daemon=True
            )
            for p in PROBES
        ]
        for t in [] if args.quiet else pollers:
            t.start()
        time.sleep(IDLE_SECONDS)
        busy_cpu = load_web.cpu_seconds(server.pid)
        headers = {"x-csrf-token": found.group(1)}
        with httpx.Client(base_url=base, cookies=cookies, timeout=600, headers=headers) as c:
            for run in range(args.runs):
                t0 = time.monotonic()
                if args.evaluate:
                    text = f"{case_text}\n# benchmark run {run} {time.time()}\n"
                    answer = c.post(
                        "/api/v1/cases/default/evaluate",
                        content=text.encode(),
                        headers={"content-type": "application/yaml"},
                    )
                else:
                    answer = c.post("/api/v1/imports", files=files, data=data)
                status, answer_bytes = answer.status_code, len(answer.content)
                uploads.append((t0, time.monotonic(), status))
                time.sleep(0.5)
        busy_cpu = load_web.cpu_seconds(server.pid) - busy_cpu
        stop.set()
        for _ in [] if args.quiet else pollers:
            path, answers = results.get(timeout=120)
            checks[path] = answers
        for t in [] if args.quiet else pollers:
            t.join(timeout=30)
    finally:
        server.terminate()
        server.wait(timeout=30)
    first = uploads[0][0]
    print(f"load average at the end: {os.getloadavg()[0]:.1f} (1 min) on {os.cpu_count()} cores")
    what = (
        "case evaluation" if csv is None else f"upload {csv.stat().st_size / 1e6:.1f} MB (dry run)"
    )
    for t0, t1, status in uploads:
        print(f"{what}: HTTP {status} in {t1 - t0:.2f} s ({answer_bytes:,} bytes answered)")
    answers = sum(len(v) for v in checks.values())
    print(
        f"server process CPU from the first upload to the last: {busy_cpu:.2f} s "
        f"({answers} probe answers in all{'' if answers else ': none, the CPU is the uploads'})"
    )
    for path in [] if args.quiet else PROBES:

        def during(when: float, seconds: float) -> bool:
            return any(when <= t1 and when + seconds >= t0 for t0, t1, _ in uploads)

        before = [s for t, s in checks[path] if t + s < first]
        inside = sorted((s, t - first) for t, s in checks[path] if during(t, s))
        print(f"{path:<8} before: {percentiles(before)}")
        print(f"{path:<8} during: {percentiles([s for s, _ in inside])}")
        slowest = [(round(at, 1), round(1000 * s)) for s, at in reversed(inside[-5:])]
        print(f"{path:<8} slowest (s after the first upload began, ms): {slowest}")


if __name__ == "__main__":
    main()
