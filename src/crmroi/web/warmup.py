"""Cache warm-up: compute the default dashboard in the background so nobody waits for it.

The first dashboard of a workspace runs the KPI report with its bootstrap, evaluates
the business case with its simulation and lists the follow-ups; the Improve area fits
the scoring and lifetime-value models. With worker processes, it first copies the
workspace for them (`crmroi.web.snapshots`), so that all of that runs in those processes,
not in the server's. `CacheWarmer` does all that in one daemon
thread when the app starts (the app's lifespan, when `WebSettings.warm_cache` is on)
and again whenever the data version (an import or undo, from any worker) or the
active case changes, polling every `warm_interval_seconds`. It never blocks startup,
logs failures instead of raising them, and stops at shutdown: between steps it checks
whether it was asked to stop, and the app waits a bounded time for a step under way.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Hashable

from crmroi.web import dashboard_data as data
from crmroi.web import dashboard_improve as improve
from crmroi.web import heap
from crmroi.web.dashboard_filters import Filters
from crmroi.web.dashboard_view import panels_html, panels_key
from crmroi.web.state import AppState

log = logging.getLogger("crmroi.web.warmup")


class CacheWarmer:
    """Keeps the default dashboard (no filters) and the Improve area computed."""

    def __init__(self, state: AppState, interval: float = 5.0) -> None:
        self.state = state
        self.interval = interval
        self.warmed: Hashable | None = None
        """The panels key last warmed (`dashboard_view.panels_key` with no filters)."""
        self.runs = 0
        self.failures = 0
        self.last_seconds: float | None = None
        self._stop = threading.Event()
        self._done = threading.Condition()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        """Start the background thread (returns at once)."""
        if self._thread is not None:
            return
        self._thread = threading.Thread(target=self._run, name="crmroi-cache-warmup", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 10.0) -> bool:
        """Ask the thread to stop and wait up to `timeout` seconds; True when it ended."""
        self._stop.set()
        thread = self._thread
        if thread is None:
            return True
        thread.join(timeout)
        if thread.is_alive():
            log.warning("cache warm-up still computing at shutdown; left to end with the process")
            return False
        return True

    def wait_until_warm(self, timeout: float) -> bool:
        """Wait until one warm-up has ended (warmed or failed); True when one has."""
        with self._done:
            return self._done.wait_for(lambda: self.runs > 0, timeout)

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                self.check()
            except Exception:  # a bad workspace or case must not end the app
                log.exception("cache warm-up failed")
            self._stop.wait(self.interval)

    def check(self) -> bool:
        """Warm the cache when the data or the active case changed; True if it warmed."""
        ws = data.workspace(self.state)
        f = Filters()
        key = panels_key(self.state, ws, f)
        if key == self.warmed:
            return False
        log.info("warming the dashboard cache for data version %s", ws.version)
        started = time.perf_counter()
        try:
            if self.state.snapshots is not None:  # the worker processes' copy, first
                self.state.snapshots.build()
            panels_html(self.state, ws, f)
            for name in improve.SECTIONS:
                if self._stop.is_set():
                    return False
                improve.section(self.state, ws.version, name)
        except Exception:
            self.failures += 1
            raise
        finally:
            # Also after a failure: not retried until the data or the case change.
            self.warmed = key
            self.last_seconds = time.perf_counter() - started
            with self._done:
                self.runs += 1
                self._done.notify_all()
        log.info("dashboard cache warm in %.1f s", self.last_seconds)
        # what the warm-up made lives until the next import: out of the collector's sight
        log.info("heap settled in %.3f s", heap.settle())
        return True
