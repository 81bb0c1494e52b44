"""`/healthz` latency while a large CSV is uploaded and checked (a dry-run import).

    .venv/bin/python benchmarks/health_during_upload.py --mb 40 [--parse-only]

Issue 17's target: `/healthz` answers within 100 ms while an import runs. Starts
`crmroi serve` on the `load_web.py` demo workspace (built once), polls `/healthz` every
10 ms from its own thread and sends a `--mb` MB deals CSV to `POST /api/v1/imports` with
`dry_run`. `--parse-only` sends an unknown `source`, so the body is parsed (multipart, on
the event loop) and then refused with 422: the cost of parsing alone. Prints the health
checks' max and p50 before and during the upload, and when the slowest ones came.
Not a timed test: the figures depend on the machine.
"""

from __future__ import annotations

import argparse
import re
import sys
import threading
import time
from pathlib import Path

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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mb", type=float, default=40.0, help="CSV size (under the 50 MB limit)")
    parser.add_argument("--parse-only", action="store_true")
    parser.add_argument("--workspace", type=Path, default=Path("/tmp/crmroi-load-web-scale1"))
    args = parser.parse_args()
    load_web.build_workspace(args.workspace, 1.0, 1)
    csv = Path(f"/tmp/crmroi-upload-check-{args.mb:g}mb.csv")
    write_csv(csv, args.mb)
    port = load_web.free_port()
    base = f"http://127.0.0.1:{port}"
    server_args = argparse.Namespace(simulation_runs=200, bootstrap=20)
    server = load_web.start_server(args.workspace, port, server_args)
    try:
        load_web.wait_until_up(base, server)
        cookies = load_web.login(base)
        with httpx.Client(base_url=base, cookies=cookies, timeout=30) as c:
            found = re.search(r'"X-CSRF-Token": "([^"]+)"', c.get("/dashboard").text)
            assert found, "no CSRF token on the dashboard"
        checks: list[tuple[float, float]] = []  # (when, seconds)
        stop = threading.Event()

        def poll() -> None:
            with httpx.Client(base_url=base, timeout=120) as h:
                while not stop.is_set():
                    started = time.perf_counter()
                    h.get("/healthz")
                    checks.append((started, time.perf_counter() - started))
                    time.sleep(0.01)

        poller = threading.Thread(target=poll)
        poller.start()
        time.sleep(1.0)
        before = [s for _, s in checks]
        data = {"dry_run": "true"} | ({"source": "not-a-source"} if args.parse_only else {})
        files = [
            ("files", ("deals.csv", csv.read_bytes(), "text/csv")),
            ("mapping", ("mapping.yaml", MAPPING.encode(), "text/yaml")),
        ]
        headers = {"x-csrf-token": found.group(1)}
        t0 = time.perf_counter()
        with httpx.Client(base_url=base, cookies=cookies, timeout=600, headers=headers) as c:
            status = c.post("/api/v1/imports", files=files, data=data).status_code
        t1 = time.perf_counter()
        time.sleep(0.5)
        stop.set()
        poller.join()
    finally:
        server.terminate()
        server.wait(timeout=30)
    during = sorted((s, t - t0) for t, s in checks if t0 <= t <= t1)
    print(f"upload {csv.stat().st_size / 1e6:.1f} MB: HTTP {status} in {t1 - t0:.2f} s")
    print(f"/healthz before: {len(before)} checks, max {1000 * max(before):.0f} ms")
    print(
        f"/healthz during: {len(during)} checks, max {1000 * during[-1][0]:.0f} ms, "
        f"p50 {1000 * during[len(during) // 2][0]:.0f} ms"
    )
    slowest = [(round(at, 1), round(1000 * s)) for s, at in reversed(during[-5:])]
    print(f"slowest (s after the upload began, ms): {slowest}")


if __name__ == "__main__":
    main()
