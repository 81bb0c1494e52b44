"""`streaming.read_ahead`: the items in order, the producer's error raised in the caller,
and leaving early stops the thread and closes the source (its file)."""

from __future__ import annotations

import threading
from collections.abc import Iterator

import pytest

from crmroi.ingest.streaming import NotStreamable, read_ahead


def _source(n: int, fail_at: int | None, closed: list[bool]) -> Iterator[int]:
    try:
        for i in range(n):
            if i == fail_at:
                raise NotStreamable(f"block {i}")
            yield i
    finally:
        closed.append(True)


def _threads() -> int:
    return sum(t.name == "crmroi-read-ahead" for t in threading.enumerate())


def test_items_in_order_and_source_closed() -> None:
    closed: list[bool] = []
    assert list(read_ahead(_source(50, None, closed))) == list(range(50))
    assert closed == [True] and _threads() == 0


def test_the_producers_error_is_raised_in_the_caller_after_the_items_before_it() -> None:
    closed: list[bool] = []
    seen: list[int] = []
    with pytest.raises(NotStreamable, match="block 7"):
        for item in read_ahead(_source(50, 7, closed)):
            seen.append(item)
    assert seen == list(range(7))
    assert closed == [True] and _threads() == 0


def test_leaving_early_stops_the_thread_and_closes_the_source() -> None:
    closed: list[bool] = []
    items = read_ahead(_source(1000, None, closed))
    with pytest.raises(ValueError, match="caller"):
        for item in items:
            if item == 3:
                raise ValueError("caller")
    items.close()  # what dropping the generator does
    assert closed == [True] and _threads() == 0
