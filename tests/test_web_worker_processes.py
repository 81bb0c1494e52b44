"""The CPU-heavy part of slow web requests in worker processes (issue 17: `/healthz` and
the login page answer within 100 ms while an import runs): files are read and mapped, and
a case simulated, in another process; the rows come back through Arrow files, equal to
mapping here; errors come back as the same `crmroi.errors` classes with file and reason."""

from __future__ import annotations

import contextlib
import math
import os
import pickle
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from crmroi import errors
from crmroi.errors import InputFileError, MappingError
from crmroi.ingest.mapped import map_unlocked
from crmroi.ingest.mapping import parse_mapping
from crmroi.ingest.presets import load_preset
from crmroi.ingest.summary import summary_json
from crmroi.messages import M_
from crmroi.store import Store
from crmroi.web.workers import WorkPool
from tests.test_links_by_title import ACTIVITIES, DEALS, EXPECTED, linked
from tests.web_support import login, make_app

MAPPING = """
source_system: pool
tables:
  - entity: deals
    files: ["deals*.csv"]
    columns:
      deal_id: Deal
      amount: Amount
      closed_at: Closed
"""


@pytest.fixture(scope="module")
def pool() -> Iterator[WorkPool]:
    opened = WorkPool(workers=1, queue=4, kind="process")
    yield opened
    opened.close()


def test_compute_runs_in_a_worker_process(pool: WorkPool) -> None:
    assert pool.call(pool.compute, os.getpid) != os.getpid()
    assert WorkPool(1, 0, kind="thread").compute(os.getpid) == os.getpid()


def test_files_mapped_in_a_worker_process_equal_files_mapped_here(
    pool: WorkPool, workspace: Store, tmp_path: Path
) -> None:
    """Deals with titles (each row's own name) and activities naming their deal by title
    (link names): table, file rows, names and rejects equal the in-process mapping."""
    deals, acts = tmp_path / "deals.csv", tmp_path / "acts.csv"
    deals.write_text(DEALS, encoding="utf-8")
    acts.write_text(ACTIVITIES, encoding="utf-8")
    mapping = load_preset("pipedrive")
    hold = lambda: contextlib.nullcontext(workspace)  # noqa: E731
    here = map_unlocked(hold, [deals, acts], mapping)
    there = map_unlocked(hold, [deals, acts], mapping, offload=pool.compute)
    assert len(here.files) == len(there.files) == 2
    for (report_a, a), (report_b, b) in zip(here.files, there.files, strict=True):
        assert a.table.column("batch_id").to_pylist() == [here.batch_id] * a.table.num_rows
        assert b.table.column("batch_id").to_pylist() == [there.batch_id] * b.table.num_rows
        assert a.table.drop_columns(["batch_id"]).equals(b.table.drop_columns(["batch_id"]))
        assert a.table.schema.equals(b.table.schema)
        assert a.lines == b.lines and a.lines
        assert a.rejects == b.rejects
        assert (report_a.rows_in, report_a.rejected) == (report_b.rows_in, report_b.rejected)
        assert (a.record_names is None) == (b.record_names is None)
        if a.record_names is not None:
            assert a.record_names.tolist() == b.record_names.tolist()
            assert b.record_names.dtype == a.record_names.dtype
        assert a.names.keys() == b.names.keys()
        for column in a.names:
            assert a.names[column].tolist() == b.names[column].tolist()
    assert any(b.names for _, b in there.files)  # the activities' deal titles came back
    assert any(b.record_names is not None for _, b in there.files)
    # linked and summarised in the worker process too, as here
    assert here.linked is not None and there.linked is not None
    assert summary_json(there.linked.summary) == summary_json(here.linked.summary)
    assert there.linked.links_by_name == here.linked.links_by_name
    for ids_a, ids_b in zip(here.linked.resolved, there.linked.resolved, strict=True):
        assert ids_a.keys() == ids_b.keys()
        assert all(ids_a[c].to_pylist() == ids_b[c].to_pylist() for c in ids_a)
    assert any(there.linked.resolved)  # the deal titles' ids came back


def test_only_the_small_rest_of_mapped_files_is_pickled_back(
    workspace: Store, tmp_path: Path
) -> None:
    """What a worker process pickles back for 20,000 mapped rows is a few KB (reports,
    summary, an empty table of the schema): the rows themselves travel in the Arrow file
    (a zero-length slice of the mapped table would pickle every buffer of it)."""
    from crmroi.ingest.handoff import map_in_folder
    from crmroi.ingest.linking import link_inputs
    from crmroi.ingest.mapped import mapping_inputs

    deals = tmp_path / "deals.csv"
    rows = (f"{i},Deal number {i},{i}.5,2024-01-{1 + i % 28:02d}\n" for i in range(20_000))
    deals.write_text("Deal,Title,Amount,Closed\n" + "".join(rows), encoding="utf-8")
    mapping = parse_mapping(MAPPING, "map.yaml")
    folder = tmp_path / "handoff"
    folder.mkdir()
    inputs, links = mapping_inputs(workspace), link_inputs(workspace, mapping, None)
    handed, found = map_in_folder([deals], mapping, None, "b1", inputs, folder, links)
    arrow_bytes = sum(f.stat().st_size for f in folder.iterdir())
    pickled = len(pickle.dumps((handed, found)))
    assert arrow_bytes > 500_000  # the rows, handed over in the file
    assert pickled < 20_000, pickled


def test_an_import_mapped_in_a_worker_process_links_by_title(
    pool: WorkPool, workspace: Store, tmp_path: Path
) -> None:
    from crmroi.ingest.pipeline import import_shared

    deals, acts = tmp_path / "deals.csv", tmp_path / "acts.csv"
    deals.write_text(DEALS, encoding="utf-8")
    acts.write_text(ACTIVITIES, encoding="utf-8")
    hold = lambda: contextlib.nullcontext(workspace)  # noqa: E731
    report = pool.call(
        import_shared, hold, [deals, acts], mapping=load_preset("pipedrive"), offload=pool.compute
    )
    assert report.rows_loaded == 10
    assert linked(workspace) == EXPECTED


def test_errors_come_back_from_the_worker_process_with_file_and_reason(
    pool: WorkPool, workspace: Store, tmp_path: Path
) -> None:
    hold = lambda: contextlib.nullcontext(workspace)  # noqa: E731
    mapping = parse_mapping(MAPPING, "map.yaml")
    missing = tmp_path / "deals-missing.csv"
    with pytest.raises(InputFileError) as caught:
        map_unlocked(hold, [missing], mapping, offload=pool.compute)
    assert caught.value.path == missing
    assert str(caught.value.reason) == "file not found"  # a Message, worded in English
    wrong = tmp_path / "deals-wrong.csv"
    wrong.write_text("Other,Columns\n1,2\n", encoding="utf-8")
    with pytest.raises(MappingError, match=r"deals-wrong\.csv"):
        map_unlocked(hold, [wrong], mapping, offload=pool.compute)
    assert pool.call(pool.compute, os.getpid) != os.getpid()  # the pool survived both


@settings(max_examples=50, deadline=None)
@given(
    name=st.text(min_size=1, max_size=30).filter(lambda s: "/" not in s and "\0" not in s),
    reason=st.text(max_size=80),
    status=st.integers(400, 599),
    wait=st.integers(0, 10**6),
)
def test_every_error_pickles_with_what_it_carries(
    name: str, reason: str, status: int, wait: int
) -> None:
    def again(exc: BaseException) -> BaseException:
        return pickle.loads(pickle.dumps(exc))

    file_error = again(InputFileError(Path("/x") / name, reason))
    assert isinstance(file_error, InputFileError)
    assert (file_error.path, file_error.reason) == (Path("/x") / name, reason)
    assert str(file_error) == str(InputFileError(Path("/x") / name, reason))
    refused = again(errors.UploadRefused(reason, status))
    assert isinstance(refused, errors.UploadRefused)
    assert (str(refused), refused.status) == (reason, status)
    for cls in (errors.TooManyAttempts, errors.ServerBusy):
        made = cls(wait, reason or None)
        back = again(made)
        assert type(back) is cls and back.retry_after == wait and str(back) == str(made)
    said = errors.MappingError(
        M_("mapping_bad", "mapping %(name)s: %(why)s", name=name, why=reason)
    )
    back_said = again(said)
    assert type(back_said) is errors.MappingError and str(back_said) == str(said)
    assert errors.error_code(back_said) == errors.error_code(said) == "mapping_bad"
    busy = errors.ServerBusy(wait, M_("busy_x", "busy %(n)s", n=wait))  # type: ignore[arg-type]
    assert errors.error_code(again(busy)) == "busy_x"
    for cls in (
        errors.UserError,
        errors.MappingError,
        errors.WorkspaceError,
        errors.ConfigurationError,
        errors.ImportAborted,
        errors.NotAuthenticated,
        errors.PermissionDenied,
        errors.AccessError,
        errors.CrmroiError,
    ):
        back = again(cls(reason))
        assert type(back) is cls and str(back) == reason


def test_the_web_app_imports_and_evaluates_through_worker_processes(tmp_path: Path) -> None:
    app = make_app(str(tmp_path / "ws"), worker_kind="process", workers=1)
    state = app.state.crmroi
    try:
        analyst = login(app, "analyst")
        files = [
            ("files", ("deals.csv", DEALS.encode(), "text/csv")),
            ("files", ("acts.csv", ACTIVITIES.encode(), "text/csv")),
        ]
        dry = analyst.post(
            "/api/v1/imports", files=files, data={"source": "pipedrive", "dry_run": "true"}
        )
        assert dry.status_code == 200, dry.text
        assert dry.json()["rows_in"] == 10 and dry.json()["batch_id"] is None
        done = analyst.post("/api/v1/imports", files=files, data={"source": "pipedrive"})
        assert done.status_code == 200, done.text
        assert done.json()["rows_loaded"] == 10
        with state.access.store() as store:
            assert linked(store) == EXPECTED
        broken = analyst.post(
            "/api/v1/imports",
            files=[
                ("files", ("deals.csv", b"Deal - ID\n\xff\xfe\x00\x01", "text/csv")),
                ("mapping", ("map.yaml", MAPPING.encode(), "application/x-yaml")),
            ],
        )
        assert broken.status_code in (400, 415), broken.text
        case = "name: small\ncosts:\n  - {category: licence, amount: 10}\n"
        headers = {"content-type": "application/yaml"}
        there = analyst.post("/api/v1/cases/x/evaluate", content=case, headers=headers)
        assert there.status_code == 200, there.text
        assert state.work.call(state.work.compute, os.getpid) != os.getpid()
    finally:
        state.work.close()
        state.access.close()
    thread_app = make_app(str(tmp_path / "ws2"), worker_kind="thread")
    try:
        here = login(thread_app, "viewer").post(
            "/api/v1/cases/x/evaluate", content=case, headers=headers
        )
        assert here.json() == there.json()  # the same figures from a thread
    finally:
        thread_app.state.crmroi.access.close()


def test_the_wizard_reads_headers_and_samples_in_a_worker_process(
    pool: WorkPool, workspace: Store, tmp_path: Path
) -> None:
    """The column form's inputs and outputs cross the boundary (pickled both ways) and
    equal the form built here."""
    import io

    from crmroi.web.import_wizard import dry_run, file_forms, read_header
    from crmroi.web.uploads import UploadArea

    area = UploadArea(tmp_path / "uploads", 10**6)
    upload = area.stage(
        "analyst",
        [("deals.csv", io.BytesIO(DEALS.encode())), ("acts.csv", io.BytesIO(ACTIVITIES.encode()))],
        "pipedrive",
    )
    paths = area.paths(upload)
    hold = lambda: contextlib.nullcontext(workspace)  # noqa: E731
    preview = dry_run(hold, paths, load_preset("pipedrive"), offload=pool.compute)
    assert preview.ok and preview.rows_in == 10
    there = pool.call(pool.compute, file_forms, upload, paths, preview)
    assert there == file_forms(upload, paths, preview)
    assert pool.call(pool.compute, read_header, paths[0], "")[0][0] == "Deal - ID"


def _die() -> None:
    os._exit(3)  # as a worker killed by the kernel for its memory would


def test_a_worker_process_that_dies_gives_503_and_the_pool_starts_afresh() -> None:
    pool = WorkPool(workers=1, queue=1, kind="process")
    try:
        with pytest.raises(errors.ServerBusy, match="worker process stopped") as caught:
            pool.call(pool.compute, _die)
        assert caught.value.retry_after > 0
        assert pool.call(pool.compute, os.getpid) != os.getpid()  # a new process
    finally:
        pool.close()


SERVER_THAT_DIES = """
import os, signal, sys
from crmroi.web.workers import WorkPool
pool = WorkPool(workers=2, queue=2, kind="{kind}")
pids = {{pool.call(pool.compute, os.getpid) for _ in range(8)}}
print(" ".join(map(str, sorted(pids))), flush=True)
{ending}
"""


@pytest.mark.parametrize(
    "ending",
    [
        "os.kill(os.getpid(), signal.SIGKILL)",  # killed: nothing runs at exit
        "pool.stop_processes(wait=True); signal.raise_signal(signal.SIGTERM)",  # as uvicorn
    ],
    ids=["killed", "shut-down"],
)
def test_worker_processes_do_not_outlive_the_server(ending: str) -> None:
    """Idle workers wait on their queue forever and a forkserver lives while its workers
    do: a server that dies must not leave them behind (they hold memory and its pipes)."""
    import subprocess
    import sys
    import time

    script = SERVER_THAT_DIES.format(kind="process", ending=ending)
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=120
    )
    pids = [int(p) for p in done.stdout.split()]
    assert pids and os.getpid() not in pids, done.stderr
    waited = 0.0
    while any(_running(p) for p in pids) and waited < 30:  # a liveness bound, not a timing
        time.sleep(0.2)
        waited += 0.2
    assert not any(_running(p) for p in pids), f"worker processes {pids} outlived the server"


def _running(pid: int) -> bool:
    """Whether `pid` is a live process (zombies count as gone)."""
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii") as stat:
            return stat.read().rpartition(")")[2].split()[0] != "Z"
    except OSError:
        return False


def test_reports_models_and_cases_computed_on_the_copy_equal_the_ones_computed_here(
    small_demo_folder: Path, tmp_path: Path
) -> None:
    """With worker processes, KPI reports, the Improve models and the active case are
    computed in them on the workspace's read-only copy: the same answers as a thread
    pool computing on the workspace itself; the copy holds no account or session."""
    from tests.conftest import copy_workspace

    urls = [
        "/api/v1/kpis?months=6",
        "/api/v1/kpis?by=segment",
        "/api/v1/summary",
        "/api/v1/scores",
        "/api/v1/segments",
        "/api/v1/clv",
    ]
    answers: dict[str, list[object]] = {}
    copies = []
    for kind in ("process", "thread"):
        folder = copy_workspace(small_demo_folder, tmp_path / kind)
        app = make_app(str(folder), worker_kind=kind, workers=1, bootstrap=20)
        state = app.state.crmroi
        try:
            if kind == "process":
                assert state.snapshots is not None
                copies.append(state.snapshots.build())
                version = state.access.data_version()
                assert state.snapshot(version) == copies[0]  # reports go to the workers
            else:
                assert state.snapshots is None
            viewer = login(app, "viewer")
            for url in urls:
                got = viewer.get(url)
                assert got.status_code == 200, (kind, url, got.text)
                answers.setdefault(url, []).append(got.json())
            case = viewer.post("/api/v1/cases/default/evaluate", content=b"")
            answers.setdefault("case", []).append((case.status_code, case.json()))
            if kind == "process":  # the work did go to the worker process
                assert state.work._processes is not None
        finally:
            state.work.close()
            state.access.close()
    for url, (there, here) in answers.items():  # DuckDB's parallel sums: last digits differ
        assert close(there, here), url
    (copy,) = copies
    assert copy.name == f"{answers['/api/v1/summary'][0]['data_version']}.duckdb"  # type: ignore[index]
    assert copy.stat().st_mode & 0o777 == 0o600
    import duckdb

    with duckdb.connect(str(copy), read_only=True) as con:
        names = {row[0] for row in con.execute("SHOW TABLES").fetchall()}
    assert "deals" in names and "import_batches" in names
    assert not {n for n in names if n.startswith(("web_", "undo_"))}


def close(a: object, b: object) -> bool:
    """Equal JSON-like values, floats within a relative 1e-9 (or 1e-12 absolute)."""
    if isinstance(a, float) and isinstance(b, float):
        return math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-12)
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(close(a[k], b[k]) for k in a)
    if isinstance(a, list | tuple) and isinstance(b, list | tuple):
        return len(a) == len(b) and all(close(x, y) for x, y in zip(a, b, strict=True))
    return a == b
