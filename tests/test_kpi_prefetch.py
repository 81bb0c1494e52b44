"""Cube queries sent ahead to a second DuckDB connection (`crmroi.kpi.prefetch`): the
same report as without, every declared cube is the one its recipe reads, and nothing
is left running when a report fails."""

from __future__ import annotations

import math
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

import crmroi.kpi.engine as engine
import crmroi.kpi.prefetch as prefetch
from crmroi.kpi import compute_kpi_report
from crmroi.kpi.facts import View, cube_name, cubes_of
from crmroi.store import Store
from tests.conftest import copy_workspace


@pytest.fixture
def demo(small_demo_folder: Path) -> Iterator[Store]:
    with Store.open(small_demo_folder) as store:
        yield store


def _rows(store: Store, **kwargs: object) -> list[dict[str, object]]:
    report = compute_kpi_report(store, bootstrap=200, seed=3, **kwargs)  # type: ignore[arg-type]
    return [k.__dict__ for k in report.kpis]


@pytest.mark.parametrize(
    "kwargs", [{}, {"by": "rep"}, {"exposure": "created"}], ids=["total", "by rep", "created"]
)
def test_prefetched_report_is_the_same(
    demo: Store, monkeypatch: pytest.MonkeyPatch, kwargs: dict[str, object]
) -> None:
    """Values, intervals and reasons equal to the last digit with and without the worker."""
    taken: list[str] = []
    take = prefetch.Prefetch.take

    def counting(self: prefetch.Prefetch, key: str, expr: object) -> object:
        found = take(self, key, expr)
        if found is not None:
            taken.append(key)
        return found

    monkeypatch.setattr(prefetch.Prefetch, "take", counting)
    ahead = _rows(demo, **kwargs)
    assert len(taken) >= 5, taken  # the worker really served the cubes
    monkeypatch.setattr(engine, "prefetchable", lambda store: False)
    taken.clear()
    alone = _rows(demo, **kwargs)
    assert not taken
    assert _same(ahead, alone)


def _same(a: object, b: object) -> bool:
    """Equal, floats within 1e-12 relative (NaN equal to NaN). Not to the last digit:
    DuckDB's parallel aggregates return rows, and add doubles, in an order that varies
    from run to run, with or without the worker."""
    if isinstance(a, float) and isinstance(b, float):
        return (math.isnan(a) and math.isnan(b)) or math.isclose(a, b, rel_tol=1e-12, abs_tol=1e-12)
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(_same(a[k], b[k]) for k in a)
    if isinstance(a, list | tuple) and isinstance(b, list | tuple):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b, strict=True))
    return a == b


def test_declared_cubes_are_the_cubes_read(demo: Store, monkeypatch: pytest.MonkeyPatch) -> None:
    """`uses(...)` on every recipe names the cubes it reads, in the order it reads them
    (a missing one would only be fetched late; a wrong one, fetched for nothing)."""
    read: dict[str, list[str]] = {}
    current: list[str] = []
    on = View.on

    def recording(self: View, build: object) -> object:
        names = read.setdefault(current[-1], [])
        if cube_name(build) not in names:  # type: ignore[arg-type]
            names.append(cube_name(build))  # type: ignore[arg-type]
        return on(self, build)  # type: ignore[arg-type]

    def wrap(name: str, recipe: engine.Recipe) -> engine.Recipe:
        def run(view: View) -> object:
            current.append(name)
            try:
                return recipe(view)
            finally:
                current.pop()

        return run  # type: ignore[return-value]

    monkeypatch.setattr(View, "on", recording)
    monkeypatch.setattr(engine, "SPECS", {n: wrap(n, r) for n, r in engine.SPECS.items()})
    report = compute_kpi_report(demo, bootstrap=0)
    formed = {k.name for k in report.kpis if k.available}
    assert len(formed) >= 20, formed
    for name in formed:
        declared = [cube_name(b) for b in cubes_of(_recipe(name))]
        assert read[name] == declared, name


def _recipe(name: str) -> engine.Recipe:
    """The recipe of KPI `name` as its module defines it (not the test's wrapper)."""
    for module in (engine.sales, engine.activity, engine.customers, engine.service, engine.sources):
        if name in module.SPECS:
            return module.SPECS[name]
    raise KeyError(name)


def test_a_failing_report_leaves_no_worker(demo: Store, monkeypatch: pytest.MonkeyPatch) -> None:
    """An error while the KPIs are formed is raised as it was, and the worker thread
    and its connection are closed (no query keeps running)."""

    def broken(view: View) -> object:
        raise RuntimeError("recipe failed")

    specs = dict(engine.SPECS)
    specs["win_rate"] = broken  # type: ignore[assignment]
    monkeypatch.setattr(engine, "SPECS", specs)
    with pytest.raises(RuntimeError, match="recipe failed"):
        compute_kpi_report(demo, bootstrap=0)
    assert not [t for t in threading.enumerate() if t.name.startswith("crmroi-prefetch")]
    assert compute_kpi_report(demo, bootstrap=0, kpis=["sales_volume"]).kpis[0].available


def test_closing_interrupts_a_query_still_running(demo: Store) -> None:
    """A report that ends early (an error, Ctrl-C) does not wait for a query it will not
    use: `close` interrupts it. The query here would run for hours."""
    t = demo.table("activities")
    a, b, c = (t.select(**{name: t.activity_id}) for name in ("a", "b", "c"))
    huge = a.cross_join(b).cross_join(c).aggregate(n=lambda r: r.count())
    ahead = prefetch.Prefetch(demo)
    ahead.send("huge", huge)
    (future,) = [f for _, f in ahead._sent.values()]
    while not future.running():
        threading.Event().wait(0.01)
    ahead.close()
    assert future.done()
    assert future.exception() is not None  # interrupted, not finished
    assert compute_kpi_report(demo, bootstrap=0, kpis=["win_rate"]).kpis[0].available


def test_a_report_inside_a_transaction_reads_its_rows(
    small_demo_folder: Path, tmp_path: Path
) -> None:
    """Inside a transaction the report must see the transaction's own, uncommitted
    rows; the worker's connection would read the committed ones (wrong by 10x here), so
    the report fetches on its own connection then."""
    with Store.open(copy_workspace(small_demo_folder, tmp_path / "ws")) as store:
        committed = compute_kpi_report(store, bootstrap=0, kpis=["sales_volume"]).kpis[0]
        with pytest.raises(RuntimeError, match="roll back"), store.transaction() as tx:
            tx.execute("UPDATE deals SET amount = amount * 10")
            inside = compute_kpi_report(store, bootstrap=0, kpis=["sales_volume"]).kpis[0]
            raise RuntimeError("roll back")
        after = compute_kpi_report(store, bootstrap=0, kpis=["sales_volume"]).kpis[0]
    assert committed.baseline and inside.baseline
    assert inside.baseline == pytest.approx(10 * committed.baseline, rel=1e-12)
    assert after.baseline == pytest.approx(committed.baseline, rel=1e-12)
