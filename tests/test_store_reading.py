"""`Store.reading`: within a read-only run each table is looked up once, in its thread."""

from __future__ import annotations

import threading

import ibis

from crmroi.store import Store
from crmroi.store.store import within_reading


def test_tables_are_looked_up_once_within_reading(workspace: Store) -> None:
    calls: list[str] = []
    table = workspace.backend.table

    def counting(name: str) -> ibis.Table:
        calls.append(name)
        return table(name)

    workspace.backend.table = counting  # type: ignore[method-assign]
    with workspace.reading():
        first = workspace.table("deals")
        with workspace.reading():  # nested: the outer block's tables
            assert workspace.table("deals") is first
        assert workspace.table("deals") is first
        other: list[ibis.Table] = []
        worker = threading.Thread(target=lambda: other.append(workspace.table("deals")))
        worker.start()
        worker.join()
        assert other[0] is not first  # another thread looks up its own
    assert calls == ["deals", "deals"]
    workspace.table("deals")  # after the block: asked again (columns may have changed)
    assert calls == ["deals", "deals", "deals"]
    assert workspace.table("deals").count().execute() == 0


def test_within_reading_runs_a_function_in_one_block(workspace: Store) -> None:
    """`within_reading` (the KPI report and the monthly panel use it): every lookup of
    the call shares one block."""

    @within_reading
    def twice(store: Store, name: str) -> tuple[ibis.Table, ibis.Table]:
        return store.table(name), store.table(name)

    first, second = twice(workspace, "orders")
    assert first is second
    assert workspace.table("orders") is not first  # the block ended with the call
