"""What one running app holds: settings, workspace access, accounts and a result cache."""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

from fastapi.templating import Jinja2Templates

from crmroi.web.access import WorkspaceAccess
from crmroi.web.auth import Accounts
from crmroi.web.health import HealthProbe
from crmroi.web.settings import WebSettings
from crmroi.web.snapshots import Snapshots
from crmroi.web.workers import WorkPool

T = TypeVar("T")
TEMPLATES_DIR = Path(__file__).parent / "templates"
STATIC_DIR = Path(__file__).parent / "static"


class ResultCache:
    """Computed results (KPI reports, case evaluations) keyed by what they depend on.

    Keys include the workspace's data version, so an import or undo makes old entries
    unreachable. One lock per key: fifty clients asking for the same dashboard at once
    cause one computation, not fifty.
    """

    def __init__(self, size: int = 64) -> None:
        self.size = size
        self._items: OrderedDict[Hashable, Any] = OrderedDict()
        self._lock = threading.Lock()
        self._key_locks: dict[Hashable, threading.Lock] = {}

    def get_or_compute(self, key: Hashable, compute: Callable[[], T]) -> T:
        with self._lock:
            if key in self._items:
                self._items.move_to_end(key)
                return self._items[key]
            key_lock = self._key_locks.setdefault(key, threading.Lock())
        with key_lock:
            with self._lock:
                if key in self._items:
                    return self._items[key]
            value = compute()
            with self._lock:
                self._items[key] = value
                while len(self._items) > self.size:
                    self._items.popitem(last=False)
                self._key_locks.pop(key, None)
            return value

    def clear(self) -> None:
        with self._lock:
            self._items.clear()


@dataclass
class AppState:
    """Everything a request handler needs, built once by `create_app`."""

    settings: WebSettings
    access: WorkspaceAccess
    accounts: Accounts
    templates: Jinja2Templates
    work: WorkPool
    health: HealthProbe
    """The health check's question to the workspace (`crmroi.web.health`)."""
    cache: ResultCache = field(default_factory=ResultCache)
    snapshots: Snapshots | None = None
    """Read-only copies of a DuckDB workspace for the worker processes (kind "process")."""

    def snapshot(self, version: str) -> Path | None:
        """The workspace's copy of data `version` for a worker process, or None: compute
        here (a thread worker pool, PostgreSQL, or the copy not made yet)."""
        return None if self.snapshots is None else self.snapshots.ready(version)

    @property
    def workspace_folder(self) -> Path | None:
        """The workspace folder (DuckDB), or None for a database URL."""
        return None if not self.access.shared else Path(self.settings.workspace)
