"""Keeping Python's cyclic garbage collector from pausing the server (issue 17).

A full collection examines every object the interpreter tracks and holds the interpreter
lock meanwhile: in a server that has imported pandas, Ibis, statsmodels and Altair and
cached a dashboard that is 250,000-320,000 objects and 80-260 ms (measured on the 2-core
machine at a load of 8), during which the event loop answers nobody, `/healthz` included.
Most of those objects live as long as the process (modules, cached results of the current
data version), so after start and after each cache warm-up (which imports what the
dashboard needs and computes it) `settle` collects once and moves the survivors out of
the collector's sight (`gc.freeze`): later collections examine only what was made since.
Each `settle` first gives the frozen objects back (`gc.unfreeze`), so the cached results
of an older data version, which an import made unreachable, are collected then, once,
rather than kept for ever.
"""

from __future__ import annotations

import gc
import time


def settle() -> float:
    """Collect everything once and freeze what survives; the seconds it took (the one
    pause this costs)."""
    started = time.perf_counter()
    gc.unfreeze()
    gc.collect()
    gc.freeze()
    return time.perf_counter() - started
