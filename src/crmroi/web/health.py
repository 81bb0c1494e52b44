"""The health check's look at the workspace, which never makes `/healthz` wait (issue 17).

`/healthz` must answer within milliseconds whatever the workspace is doing. Its question
to the workspace (`WorkspaceAccess.ping`: is it free, does `SELECT 1` answer) runs in one
thread of its own; a check waits for it at most `wait_seconds` and otherwise answers
"busy" at once. At most one question is asked at a time: checks that come while it is
under way wait for the same answer (or not at all), so a stuck database cannot pile up
threads behind the health check.
"""

from __future__ import annotations

import asyncio
import threading
from concurrent.futures import Future, ThreadPoolExecutor

from crmroi.web.access import WorkspaceAccess

WAIT_SECONDS = 0.05


class HealthProbe:
    """Asks `access` whether it answers, one question at a time."""

    def __init__(self, access: WorkspaceAccess, wait_seconds: float = WAIT_SECONDS) -> None:
        self.access = access
        self.wait_seconds = wait_seconds
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="crmroi-health")
        self._lock = threading.Lock()
        self._asking: Future[bool] | None = None

    def ask(self) -> Future[bool]:
        """The question under way, or a new one when none is."""
        with self._lock:
            if self._asking is None or self._asking.done():
                self._asking = self._executor.submit(self.access.ping, self.wait_seconds)
            return self._asking

    async def workspace_answers(self) -> bool:
        """True when the workspace answered within `wait_seconds`; False ("busy") else."""
        asked = self.ask()
        try:
            return await asyncio.wait_for(
                asyncio.shield(asyncio.wrap_future(asked)), self.wait_seconds
            )
        except TimeoutError:
            return False
