"""Load check of the web app: 50 concurrent clients on the dashboard and the KPI API.

    .venv/bin/python benchmarks/load_web.py --scale 1 --clients 50 --seconds 60

Issue 17's targets (2 cores shared with this load generator): the closed loop serves at
least 150 req/s with p95 under 500 ms, and 50 users each clicking every 2 s (`--think`)
see p95 under 150 ms.

Builds (once, then reuses) a `--scale` demo workspace in `--workspace`, starts `crmroi
serve` on loopback in a child process, logs in, warms every URL once (the cold
computations are timed and reported apart: the first KPI report of a filter is computed
once and then cached for that data version), waits until the server's process is idle
(its cache warm-up fits the Improve models in that process after start), then runs
`--clients` async clients (httpx) for `--seconds` seconds, each looping over a mix of
dashboard pages, htmx filter swaps, the drill-down partial and the KPI API (before that,
`--uncached` KPI reports no one asked for yet, one at a time and then as many others at
once). Reports per-URL and overall p50/p95/p99 latency, requests per second and errors
(non-200 answers or exceptions), for the closed loop and then for users clicking every
`--think` seconds.
Not a timed test: the figures depend on the machine (two shared cores here).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import re
import shutil
import socket
import statistics
import subprocess
import sys
import time
from collections import defaultdict
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]
PASSWORD = "load-check-password-1"
HTMX = {"hx-request": "true", "accept": "text/html"}
HTML = {"accept": "text/html"}


def build_workspace(folder: Path, scale: float, seed: int) -> None:
    """A demo company at `scale` with the demo's business case (kept between runs)."""
    if (folder / "workspace.duckdb").exists():
        return
    from crmroi.demo import generate_company, write_demo
    from crmroi.store import Store

    started = time.perf_counter()
    with Store.open(folder, create=True) as store:
        write_demo(store, generate_company(scale=scale, seed=seed), store.folder)
    shutil.copy(ROOT / "src/crmroi/reports/demo_case.yaml", folder / "case.yaml")
    print(f"built a scale-{scale:g} demo workspace in {time.perf_counter() - started:.0f} s")


def wait_until_idle(pid: int, quiet: int = 3, timeout: float = 900.0) -> float:
    """Wait until the server's process and its worker processes have used under 5% of a
    core in each of `quiet` seconds in a row (its cache warm-up, which computes the
    dashboard and fits the Improve models in the background after start, has ended);
    returns the seconds waited."""
    started = time.monotonic()
    calm = 0
    while calm < quiet and time.monotonic() - started < timeout:
        used = tree_cpu_seconds(pid)
        time.sleep(1.0)
        calm = calm + 1 if tree_cpu_seconds(pid) - used < 0.05 else 0
    return time.monotonic() - started


def cpu_seconds(pid: int) -> float:
    """User and system CPU time of process `pid`'s own threads (not its children), in s."""
    fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def tree_cpu_seconds(pid: int) -> float:
    """`cpu_seconds` of `pid` and of every process under it (worker processes), in s."""
    children: dict[int, list[int]] = defaultdict(list)
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rpartition(")")[2].split()
        except OSError:
            continue
        children[int(fields[1])].append(int(stat.parent.name))
    total, todo = 0.0, [pid]
    while todo:
        current = todo.pop()
        todo += children.get(current, [])
        with contextlib.suppress(OSError):
            total += cpu_seconds(current)
    return total


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start_server(workspace: Path, port: int, args: argparse.Namespace) -> subprocess.Popen[bytes]:
    env = dict(os.environ)
    env |= {
        "CRMROI_ADMIN_PASSWORD": PASSWORD,
        "CRMROI_SECRET_KEY": "load-check-secret-0123456789abcdef",
        "CRMROI_SIMULATION_RUNS": str(args.simulation_runs),
        "CRMROI_BOOTSTRAP": str(args.bootstrap),
    }
    command = [sys.executable, "-m", "crmroi", "serve", str(workspace)]
    command += ["--host", "127.0.0.1", "--port", str(port), "--development"]
    return subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL)


def wait_until_up(base: str, process: subprocess.Popen[bytes], timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"crmroi serve exited with {process.returncode}")
        try:
            if httpx.get(base + "/healthz", timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.5)
    raise SystemExit("crmroi serve did not answer /healthz in time")


def login(base: str) -> httpx.Cookies:
    with httpx.Client(base_url=base, timeout=30) as c:
        page = c.get("/login")
        token = re.search(r'name="login_csrf" value="([^"]+)"', page.text)
        assert token, page.text
        data = {"username": "admin", "password": PASSWORD, "login_csrf": token.group(1)}
        response = c.post("/login", data=data)
        if response.status_code != 303:
            raise SystemExit(f"login failed: HTTP {response.status_code} {response.text[:200]}")
        return c.cookies


def mix(base: str, cookies: httpx.Cookies) -> list[tuple[str, str, dict[str, str]]]:
    """(label, path, headers) the clients cycle through; teams taken from the API."""
    with httpx.Client(base_url=base, cookies=cookies, timeout=30) as c:
        team = c.get("/api/v1/kpis/win_rate/series").json()["points"][0]["unit"]
    return [
        ("dashboard page", "/dashboard", HTML),
        ("dashboard htmx team filter", f"/dashboard?team={team}", HTMX),
        ("KPI drill-down partial", f"/dashboard/kpi/win_rate?team={team}", HTMX),
        ("api kpis", "/api/v1/kpis", {}),
        ("api kpis team filter", f"/api/v1/kpis?team={team}", {}),
        ("api kpis by=segment", "/api/v1/kpis?by=segment", {}),
        ("api kpi series", "/api/v1/kpis/sales_volume/series", {}),
        ("api summary", "/api/v1/summary", {}),
    ]


def warm(base: str, cookies: httpx.Cookies, urls: list[tuple[str, str, dict[str, str]]]) -> None:
    """Each URL once, in order: the cold computations, timed."""
    with httpx.Client(base_url=base, cookies=cookies, timeout=1800) as c:
        for label, path, headers in urls:
            started = time.perf_counter()
            status = c.get(path, headers=headers).status_code
            print(f"  cold {label:<28} HTTP {status} {time.perf_counter() - started:7.2f} s")


UNCACHED_MONTHS = (3, 4, 5, 7, 8, 9, 10, 11)  # periods the mix never asks for


async def uncached(base: str, cookies: httpx.Cookies, n: int) -> dict:
    """`n` KPI reports no one asked for yet (`/api/v1/kpis?months=M`), first one at a time,
    then `n` other ones all at once: seconds each and wall time of both rounds."""

    async def one(c: httpx.AsyncClient, months: int) -> float:
        started = time.perf_counter()
        status = (await c.get("/api/v1/kpis", params={"months": months})).status_code
        if status != 200:
            raise SystemExit(f"/api/v1/kpis?months={months}: HTTP {status}")
        return time.perf_counter() - started

    serial_months, together_months = UNCACHED_MONTHS[:n], UNCACHED_MONTHS[n : 2 * n]
    async with httpx.AsyncClient(base_url=base, cookies=cookies, timeout=600) as c:
        started = time.perf_counter()
        serial = [await one(c, m) for m in serial_months]
        serial_wall = time.perf_counter() - started
        started = time.perf_counter()
        together = await asyncio.gather(*(one(c, m) for m in together_months))
        together_wall = time.perf_counter() - started
    return {
        "serial_s": [round(t, 2) for t in serial],
        "serial_wall_s": round(serial_wall, 2),
        "together_s": [round(t, 2) for t in together],
        "together_wall_s": round(together_wall, 2),
    }


async def client(
    i: int,
    base: str,
    cookies: httpx.Cookies,
    urls: list[tuple[str, str, dict[str, str]]],
    stop: float,
    times: dict[str, list[float]],
    errors: dict[str, int],
    think: float = 0.0,
    clients: int = 1,
) -> None:
    async with httpx.AsyncClient(base_url=base, cookies=cookies, timeout=120) as c:
        n = i  # clients start at different points of the mix
        if think:  # users clicking every `think` seconds, their clicks spread over it
            await asyncio.sleep(think * i / max(1, clients))
        next_click = time.monotonic()
        while time.monotonic() < stop:
            if think:
                next_click += think
            label, path, headers = urls[n % len(urls)]
            n += 1
            started = time.perf_counter()
            try:
                response = await c.get(path, headers=headers)
                ok = response.status_code == 200
            except httpx.HTTPError:
                ok = False
            elapsed = time.perf_counter() - started
            times[label].append(elapsed)
            if not ok:
                errors[label] += 1
            if think:
                await asyncio.sleep(max(0.0, next_click - time.monotonic()))


def pct(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


async def run(
    base: str,
    cookies: httpx.Cookies,
    urls: list,
    clients: int,
    seconds: float,
    think: float = 0.0,
) -> dict:
    """`clients` clients for `seconds`: back to back (closed loop), or each sending one
    request every `think` seconds (users clicking)."""
    times: dict[str, list[float]] = defaultdict(list)
    errors: dict[str, int] = defaultdict(int)
    started = time.monotonic()
    stop = started + seconds
    await asyncio.gather(
        *(
            client(i, base, cookies, urls, stop, times, errors, think, clients)
            for i in range(clients)
        )
    )
    wall = time.monotonic() - started
    rows = {}
    for label, _, _ in urls:
        values = times[label]
        rows[label] = {
            "requests": len(values),
            "errors": errors[label],
            "p50_ms": 1000 * statistics.median(values) if values else None,
            "p95_ms": 1000 * pct(values, 95) if values else None,
        }
    every = [v for values in times.values() for v in values]
    total = {
        "clients": clients,
        "seconds": round(wall, 1),
        "requests": len(every),
        "requests_per_second": round(len(every) / wall, 1),
        "errors": sum(errors.values()),
        "p50_ms": round(1000 * statistics.median(every), 1),
        "p95_ms": round(1000 * pct(every, 95), 1),
        "p99_ms": round(1000 * pct(every, 99), 1),
        "max_ms": round(1000 * max(every), 1),
    }
    return {"total": total, "by_url": rows}


def report(result: dict) -> None:
    t = result["total"]
    for label, row in result["by_url"].items():
        p50, p95 = row["p50_ms"], row["p95_ms"]
        print(
            f"  {label:<28} {row['requests']:6d} req  {row['errors']:3d} err  "
            f"p50 {p50 or 0:8.1f} ms  p95 {p95 or 0:8.1f} ms"
        )
    print(
        f"total: {t['requests']} requests in {t['seconds']} s = {t['requests_per_second']} req/s, "
        f"p50 {t['p50_ms']} ms, p95 {t['p95_ms']} ms, p99 {t['p99_ms']} ms, "
        f"max {t['max_ms']} ms, errors {t['errors']}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", type=float, default=1.0)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--workspace", type=Path, default=None, help="Kept between runs.")
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--bootstrap", type=int, default=200, help="KPI interval replicates.")
    parser.add_argument("--simulation-runs", type=int, default=2000)
    parser.add_argument("--json", type=Path, default=None, help="Also write the figures here.")
    parser.add_argument(
        "--think",
        type=float,
        default=2.0,
        help="Second phase: each client clicks once every THINK seconds (0: skip it).",
    )
    parser.add_argument(
        "--uncached",
        type=int,
        default=2,
        choices=range(0, len(UNCACHED_MONTHS) // 2 + 1),
        help="Filter combinations not yet cached: N one at a time, then N others at once.",
    )
    args = parser.parse_args()
    workspace = args.workspace or Path(f"/tmp/crmroi-load-web-scale{args.scale:g}")
    build_workspace(workspace, args.scale, args.seed)
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    server = start_server(workspace, port, args)
    try:
        wait_until_up(base, server)
        cookies = login(base)
        urls = mix(base, cookies)
        print(f"warming {len(urls)} URLs (cold computations, bootstrap {args.bootstrap}):")
        warm(base, cookies, urls)
        # the cache warm-up computes the dashboard and fits the Improve models after
        # start: measured apart from the answers below, which it would otherwise slow down
        print(f"waited {wait_until_idle(server.pid):.0f} s for the server's warm-up to end")
        fresh = {}
        if args.uncached:
            own, tree = cpu_seconds(server.pid), tree_cpu_seconds(server.pid)
            fresh = asyncio.run(uncached(base, cookies, args.uncached))
            own, tree = cpu_seconds(server.pid) - own, tree_cpu_seconds(server.pid) - tree
            fresh |= {"server_cpu_s": round(own, 2), "with_workers_cpu_s": round(tree, 2)}
            print(
                f"uncached filter combinations: {args.uncached} one at a time "
                f"{fresh['serial_s']} s (wall {fresh['serial_wall_s']} s); "
                f"{args.uncached} at once {fresh['together_s']} s "
                f"(wall {fresh['together_wall_s']} s); CPU of the server's process "
                f"{own:.2f} s, with its worker processes {tree:.2f} s; "
                f"load average {os.getloadavg()[0]:.1f}"
            )
        print(f"closed loop: {args.clients} clients back to back for {args.seconds:g} s ...")
        result = asyncio.run(run(base, cookies, urls, args.clients, args.seconds))
        report(result)
        if args.think:
            print(f"users: {args.clients} clients, one click every {args.think:g} s each ...")
            clicking = asyncio.run(
                run(base, cookies, urls, args.clients, args.seconds, think=args.think)
            )
            report(clicking)
            result = {"closed_loop": result, "users_clicking": clicking}
        if fresh:
            result = {**result, "uncached": fresh}
    finally:
        server.terminate()
        server.wait(timeout=30)
    if args.json:
        args.json.write_text(
            json.dumps(
                {
                    "args": vars(args) | {"workspace": str(workspace), "json": str(args.json)},
                    **result,
                },
                indent=2,
            )
        )


if __name__ == "__main__":
    main()
