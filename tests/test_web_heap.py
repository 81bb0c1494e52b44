"""The server's heap kept out of the garbage collector's way (`crmroi.web.heap`, issue 17)."""

from __future__ import annotations

import gc
import threading
import weakref
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.web_support import client, make_app


class Node:
    """An object in a reference cycle (only the cyclic collector frees it)."""

    def __init__(self) -> None:
        self.me = self


@pytest.fixture
def unfrozen() -> Iterator[None]:
    yield
    gc.unfreeze()  # the test process's heap as the other tests expect it


def test_settle_freezes_survivors_and_frees_them_once_they_die(unfrozen: None) -> None:
    from crmroi.web import heap

    kept = Node()
    watch = weakref.ref(kept)
    heap.settle()
    assert gc.get_freeze_count() > 0
    del kept  # garbage now, but frozen: the collector does not look at it
    gc.collect()
    assert watch() is not None
    heap.settle()  # the next settle (after the next warm-up) gives it back and frees it
    assert watch() is None


def test_the_app_freezes_its_heap_once_started(tmp_path: Path, unfrozen: None) -> None:
    gc.unfreeze()
    app = make_app(str(tmp_path / "ws"))
    try:
        with client(app) as c:  # runs the lifespan: start-up in the background
            assert c.get("/healthz").status_code == 200
            for thread in threading.enumerate():
                if thread.name == "crmroi-heap":
                    thread.join(timeout=120)
            assert gc.get_freeze_count() > 0
    finally:
        app.state.crmroi.access.close()
