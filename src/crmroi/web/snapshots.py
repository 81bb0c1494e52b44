"""Read-only copies of a DuckDB workspace, so worker processes can compute from it (issue 17).

DuckDB lets one process open a workspace file for writing, and the server holds it; a
worker process cannot open it beside the server. So, once per data version, the server
copies the imported data (the canonical tables, the import history and the settings;
not the web app's own `web_*` tables, which hold password hashes and sessions, nor the
`undo_*` history) into `snapshots/<version>.duckdb`
in the workspace folder (0700 folder, 0600 file), inside `WorkspaceAccess.reader()` (no
write runs meanwhile; DuckDB does the copy without the interpreter lock). The worker
processes open that copy read-only, several at once, and run the KPI reports, the Improve
area's models and a case's model there: in parallel on the machine's cores, and without
holding the interpreter lock the server's event loop needs.

The copy's name is the data version computed from the copy itself (the same fingerprint
as `WorkspaceAccess.data_version`), so a copy never stands for data it does not hold.
Copies of older versions are removed when a new one is made (a worker still reading one
keeps its open file). Until the copy of the current version exists, `ready` starts
making it in the background and the callers compute in the server as before; the cache
warm-up makes it first thing after an import.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import os
import secrets
import threading
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from crmroi.finance.case import Case
    from crmroi.kpi.report import KpiReport
    from crmroi.reports.model import Improvements
    from crmroi.store import Store
    from crmroi.web.access import WorkspaceAccess
    from crmroi.web.case_results import CaseFigures

log = logging.getLogger("crmroi.web.snapshots")
FOLDER = "snapshots"
SUFFIX = ".duckdb"
VERSION_QUERY = "SELECT batch_id, status FROM import_batches ORDER BY batch_id"


def copied_tables() -> list[str]:
    """The tables a copy holds: the canonical data, the import history and the workspace
    settings; never the web app's accounts and sessions, the undo history or a stage."""
    from crmroi.store.schema import TABLES
    from crmroi.store.store import SETTINGS_TABLE

    return [*TABLES, "import_batches", SETTINGS_TABLE]


def version_of(rows: list[tuple[Any, ...]]) -> str:
    """The data version of `import_batches` rows (`WorkspaceAccess.data_version`)."""
    return hashlib.sha256(repr(rows).encode()).hexdigest()[:16]


class Snapshots:
    """The read-only copies of one DuckDB workspace (`folder` / FOLDER)."""

    def __init__(self, access: WorkspaceAccess, workspace_folder: Path) -> None:
        self.access = access
        self.folder = workspace_folder / FOLDER
        self._lock = threading.Lock()  # one copy made at a time
        self._building: threading.Thread | None = None

    def path(self, version: str) -> Path:
        return self.folder / f"{version}{SUFFIX}"

    def ready(self, version: str) -> Path | None:
        """The copy of data `version` if it exists; else None, and it is made in the
        background (one at a time) for the next caller."""
        path = self.path(version)
        if path.exists():
            return path
        with self._lock:
            if self._building is None or not self._building.is_alive():
                self._building = threading.Thread(
                    target=self._build_logged, name="crmroi-snapshot", daemon=True
                )
                self._building.start()
        return None

    def _build_logged(self) -> None:
        try:
            self.build()
        except Exception:  # a failed copy only means computing in the server
            log.exception("could not copy the workspace for the worker processes")

    def build(self) -> Path:
        """Copy the workspace as it is now (or find the copy of its version); its path."""
        with self._lock, self.access.reader() as store:
            con = store.backend.con
            version = version_of(con.execute(VERSION_QUERY).fetchall())
            path = self.path(version)
            if path.exists():
                return path
            self.folder.mkdir(mode=0o700, parents=True, exist_ok=True)  # nobody else looks in
            partial = self.folder / f".{version}-{secrets.token_hex(4)}.partial"
            alias = f"crmroi_snapshot_{secrets.token_hex(4)}"
            try:
                existing = {
                    row[0]
                    for row in con.execute(
                        "SELECT table_name FROM information_schema.tables "
                        "WHERE table_catalog = current_database() AND table_schema = 'main' "
                        "AND table_type = 'BASE TABLE'"
                    ).fetchall()
                }
                names = [name for name in copied_tables() if name in existing]
                con.execute(f"ATTACH '{partial}' AS {alias}")
                try:
                    for name in names:
                        con.execute(f'CREATE TABLE {alias}."{name}" AS SELECT * FROM main."{name}"')
                finally:
                    con.execute(f"DETACH {alias}")
                os.chmod(partial, 0o600)
                os.replace(partial, path)
            except BaseException:
                partial.unlink(missing_ok=True)
                raise
        self._remove_others(path)
        return path

    def _remove_others(self, keep: Path) -> None:
        for other in self.folder.iterdir():
            if other != keep:
                with contextlib.suppress(OSError):
                    other.unlink()


# -- in the worker processes ----------------------------------------------------------
_OPEN: dict[str, tuple[Store, dict[str, Any]]] = {}
"""The copy this worker process has open, with what it computed from it (frames)."""


def open_copy(path: str) -> tuple[Store, dict[str, Any]]:
    """The copy at `path`, opened read-only once per worker process (older ones closed)."""
    found = _OPEN.get(path)
    if found is not None:
        return found
    import ibis

    from crmroi.store import Store
    from crmroi.store.engines import engine_for

    for old in list(_OPEN):
        _OPEN.pop(old)[0].close()
    backend = ibis.duckdb.connect(path, read_only=True)
    opened: tuple[Store, dict[str, Any]] = (Store(backend, engine_for("duckdb", backend), path), {})
    _OPEN[path] = opened
    return opened


def kpi_report_in(path: str, by: str | None, months: int, bootstrap: int, seed: int) -> KpiReport:
    """`compute_kpi_report` on the copy at `path` (the dashboard's arguments)."""
    from crmroi.kpi import compute_kpi_report

    store, _ = open_copy(path)
    return compute_kpi_report(
        store, by=by, baseline_months=months, after_months=months, bootstrap=bootstrap, seed=seed
    )


def improve_section_in(path: str, name: str) -> Improvements:
    """The Improve area's section `name` (`dashboard_improve.build_section`) from the
    copy at `path`; its frames are read once per copy and worker process."""
    from crmroi.web.dashboard_improve import build_section, read_frames

    store, made = open_copy(path)
    if "improve-frames" not in made:
        made["improve-frames"] = read_frames(store)
    found = made["improve-frames"]
    return build_section(found.frames, found.as_of, name)  # type: ignore[arg-type]


def case_figures_in(
    path: str, case: Case, name: str, runs: int | None, bootstrap: int
) -> CaseFigures:
    """A case's model measured on the copy at `path`, then evaluated
    (`case_results.figures_of`)."""
    from crmroi.casework.evaluate import model_for
    from crmroi.web.case_results import figures_of

    store, _ = open_copy(path)
    model = model_for(case, store, bootstrap=bootstrap)
    return figures_of(case, name, runs, model)
