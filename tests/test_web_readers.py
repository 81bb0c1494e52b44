"""Shared reads of a DuckDB workspace (issue 17: uncached filter combinations compute side
by side): each thread reads through its own cursor and Ibis backend, readers run together,
a write of the data waits for them and excludes them, and the numbers equal the serial
computation. Case evaluations and the workspace counts read the same way, and a login's
small write goes beside a running report."""

from __future__ import annotations

import contextlib
import dataclasses
import math
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI

from crmroi.kpi import KpiReport, compute_kpi_report
from crmroi.store import Store
from crmroi.web.access import WorkspaceAccess
from crmroi.web.case_results import evaluate_text
from crmroi.web.dashboard_data import workspace
from tests.conftest import copy_workspace
from tests.web_support import login, make_app

BOOTSTRAP = 20
SPLITS: tuple[str | None, ...] = ("team", "segment")


@pytest.fixture
def access(small_demo_folder: Path, tmp_path: Path):  # type: ignore[no-untyped-def]
    opened = WorkspaceAccess(str(copy_workspace(small_demo_folder, tmp_path / "ws")))
    yield opened
    opened.close()


def report_of(store: Store, by: str | None) -> KpiReport:
    return compute_kpi_report(store, by=by, bootstrap=BOOTSTRAP, seed=0)


def same(a: Any, b: Any) -> bool:
    """Equal, floats to 1e-9 relative: DuckDB sums floats in parallel, so even two serial
    runs differ in the last digits."""
    if isinstance(a, float) and isinstance(b, float):
        return math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-9) or (math.isnan(a) and math.isnan(b))
    if dataclasses.is_dataclass(a) and not isinstance(a, type):
        return type(a) is type(b) and same(dataclasses.asdict(a), dataclasses.asdict(b))
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(same(a[k], b[k]) for k in a)
    if isinstance(a, list | tuple) and isinstance(b, list | tuple):
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b, strict=True))
    return bool(a == b)


def test_two_reports_compute_together_and_equal_the_serial_ones(
    access: WorkspaceAccess, small_demo_folder: Path, tmp_path: Path
) -> None:
    both_inside = threading.Barrier(len(SPLITS), timeout=30)
    found: dict[str | None, KpiReport] = {}
    spans: dict[str | None, tuple[float, float]] = {}
    errors: list[BaseException] = []

    def work(by: str | None) -> None:
        try:
            with access.reader() as store:
                started = time.monotonic()
                both_inside.wait()  # times out (BrokenBarrierError) if readers were exclusive
                found[by] = report_of(store, by)
                spans[by] = (started, time.monotonic())
        except BaseException as exc:  # reported below, in the test's thread
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(by,)) for by in SPLITS]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert not errors, errors
    (a0, a1), (b0, b1) = spans.values()
    assert a0 < b1 and b0 < a1  # the two computations overlapped in time

    serial = copy_workspace(small_demo_folder, tmp_path / "serial")
    with Store.open(serial) as store:
        for by in SPLITS:
            expected = report_of(store, by).kpis
            assert len(found[by].kpis) == len(expected) > 0
            for got, want in zip(found[by].kpis, expected, strict=True):
                assert same(got, want), (got, want)


def test_a_write_waits_for_readers_and_readers_wait_for_a_write(
    access: WorkspaceAccess,
) -> None:
    events: list[str] = []
    reading = threading.Event()
    release_reader = threading.Event()

    def reader() -> None:
        with access.reader() as store:
            reading.set()
            release_reader.wait(10)
            events.append(f"read {store.count('deals') > 0}")

    def writer() -> None:  # a write of the data (an import, an undo) holds store()
        with access.store() as store, store.transaction() as tx:
            tx.execute("UPDATE workspace_settings SET value = value WHERE 1 = 0")
            events.append("wrote")

    r = threading.Thread(target=reader)
    r.start()
    assert reading.wait(10)
    assert access.ping(wait_seconds=0.05)  # a health check reads beside a reader
    w = threading.Thread(target=writer)
    w.start()
    time.sleep(0.2)
    assert events == []  # the write waits while the reader is inside
    release_reader.set()
    r.join(10)
    w.join(10)
    assert events == ["read True", "wrote"]

    with access.store():  # a writer inside: a new reader waits for it
        started = threading.Event()
        done = threading.Event()

        def late_reader() -> None:
            started.set()
            with access.reader():
                done.set()

        t = threading.Thread(target=late_reader)
        t.start()
        assert started.wait(10)
        assert not done.wait(0.2)
        answers: list[bool] = []
        health = threading.Thread(target=lambda: answers.append(access.ping(wait_seconds=0.05)))
        health.start()
        health.join(10)
        assert answers == [False]  # another thread's health check sees the write running
    t.join(10)
    assert done.is_set()


def test_writing_from_inside_a_reader_is_refused_not_deadlocked(
    access: WorkspaceAccess,
) -> None:
    with access.reader(), pytest.raises(RuntimeError, match="reader"), access.store():
        pass
    with access.store(), access.reader() as store:  # a writer reads its own connection
        assert store.count("deals") > 0


# ------------------------------------------------------------------ the web app's readers


@pytest.fixture
def app(small_demo_folder: Path, tmp_path: Path):  # type: ignore[no-untyped-def]
    made = make_app(
        str(copy_workspace(small_demo_folder, tmp_path / "app")),
        simulation_runs=50,
        bootstrap=BOOTSTRAP,
    )
    yield made
    made.state.crmroi.access.close()


def test_two_case_evaluations_and_the_workspace_counts_read_at_the_same_moment(
    app: FastAPI, small_demo_folder: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Each of three requests waits, inside its first `reader()`, for the other two: the
    barrier breaks (BrokenBarrierError) if evaluations or counts held the workspace alone."""
    state = app.state.crmroi
    inside = threading.Barrier(3, timeout=60)
    met = threading.local()
    real_reader = state.access.reader

    @contextlib.contextmanager
    def meeting_reader() -> Iterator[Store]:
        with real_reader() as store:
            if not getattr(met, "done", False):
                met.done = True
                inside.wait()
            yield store

    monkeypatch.setattr(state.access, "reader", meeting_reader)
    text = (small_demo_folder / "case.yaml").read_text(encoding="utf-8")
    likely = "change: {low: 0.0, likely: 0.015, high: 0.04}"
    assert likely in text
    text = text.replace(likely, "change: measured")  # a case that reads the workspace
    found: dict[str, Any] = {}
    errors: list[BaseException] = []

    def run(label: str, job: Any) -> None:
        try:
            found[label] = job()
        except BaseException as exc:  # reported below, in the test's thread
            errors.append(exc)

    jobs = {
        "a": lambda: evaluate_text(state, text, "a"),
        "b": lambda: evaluate_text(state, text, "b"),
        "counts": lambda: workspace(state).counts,
    }
    threads = [threading.Thread(target=run, args=item) for item in jobs.items()]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    assert not errors, errors
    assert found["counts"]["deals"] > 0
    monkeypatch.undo()
    serial = evaluate_text(state, text, "serial")  # alone, after the others
    for label in ("a", "b"):
        assert found[label].name == label
        assert same(dataclasses.replace(found[label], name="serial"), serial)


def test_a_login_completes_while_a_report_holds_a_reader(app: FastAPI) -> None:
    """A login writes its session row beside a running report instead of waiting for it:
    the report is held open until the login has finished (or the test gives up)."""
    state = app.state.crmroi
    reading, release = threading.Event(), threading.Event()

    def report() -> None:
        with state.access.reader() as store:
            reading.set()
            release.wait(120)
            assert store.count("deals") > 0

    holder = threading.Thread(target=report)
    holder.start()
    try:
        assert reading.wait(30)
        logged_in: list[Any] = []
        attempt = threading.Thread(target=lambda: logged_in.append(login(app, "viewer")))
        attempt.start()
        attempt.join(120)  # returns at once when the login does not wait for the report
        report_still_running = holder.is_alive()
    finally:
        release.set()
        holder.join(30)
    assert report_still_running
    assert logged_in, "the login waited for the report"
    assert logged_in[0].get("/api/v1/cases").status_code == 200  # the session works
