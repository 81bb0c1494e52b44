"""Links by name and the import summary found where the files are mapped (issue 17: only
the final write holds the workspace): the same links, rows and summary as an import that
links holding the workspace; linked again by the writer when another import committed
meanwhile; never while the workspace is held."""

from __future__ import annotations

import contextlib
import threading
from pathlib import Path
from typing import Any

import pytest

import crmroi.ingest.pipeline as pipeline_module
import crmroi.ingest.summary as summary_module
from crmroi.ingest.mapped import map_unlocked
from crmroi.ingest.pipeline import import_files
from crmroi.ingest.presets import load_preset
from crmroi.ingest.summary import summary_json
from crmroi.store import Store
from crmroi.web.access import WorkspaceAccess
from crmroi.web.import_wizard import dry_run
from tests.test_links_by_title import ACTIVITIES, DEALS, EXPECTED, deal_links, linked, write


def _refuse_server_linking(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(*args: Any, **kwargs: Any) -> Any:
        raise AssertionError("linked and summarised holding the workspace")

    monkeypatch.setattr(pipeline_module, "_link_and_summarise", refuse)


def test_links_found_apart_equal_links_found_holding_the_workspace(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Deals in the workspace, activities naming them by title (some in the workspace,
    one shared, one unknown): rows, links and summary equal an import that links holding
    the workspace, and the writer did not link."""
    deals = write(tmp_path / "deals.csv", DEALS)
    acts = write(tmp_path / "acts.csv", ACTIVITIES)
    mapping = load_preset("pipedrive")
    with (
        Store.open(tmp_path / "a", create=True) as here,
        Store.open(tmp_path / "b", create=True) as apart,
    ):
        for store in (here, apart):
            import_files(store, [deals], mapping=mapping)
        expected = import_files(here, [acts], mapping=mapping)
        mapped = map_unlocked(lambda: contextlib.nullcontext(apart), [acts], mapping)
        assert mapped.linked is not None
        # as mapped: the worker's resolution is kept beside the rows, not in them
        ((_, table),) = mapped.files
        assert table.table.column("deal_id").null_count == table.table.num_rows
        with monkeypatch.context() as patched:
            _refuse_server_linking(patched)
            report = import_files(apart, [acts], mapping=mapping, mapped=mapped)
        assert linked(apart) == linked(here) == EXPECTED
        assert deal_links(report) == deal_links(expected) == (3, 0, 3, 3, 1, 1)
        assert summary_json(report.summary) == summary_json(expected.summary)


def test_an_import_committed_meanwhile_makes_the_writer_link_again(tmp_path: Path) -> None:
    """The activities were mapped (and linked) when one deal had the title 'Acme deal';
    before they are written another import adds a second: the link is then ambiguous,
    so activities 501 and 502 are left unlinked, not linked to the first deal."""
    mapping = load_preset("pipedrive")
    acts = write(tmp_path / "acts.csv", ACTIVITIES)
    with Store.open(tmp_path / "ws", create=True) as store:
        import_files(store, [write(tmp_path / "deals.csv", DEALS)], mapping=mapping)
        mapped = map_unlocked(lambda: contextlib.nullcontext(store), [acts], mapping)
        assert mapped.linked is not None
        assert mapped.linked.resolved[0]["deal_id"].to_pylist()[:2] == ["101", "101"]
        twin = DEALS.splitlines()[0] + "\n107,Acme deal,1,USD,,Open,2024-03-01 10:00:00,,\n"
        import_files(store, [write(tmp_path / "twin.csv", twin)], mapping=mapping)
        report = import_files(store, [acts], mapping=mapping, mapped=mapped)
        assert linked(store) == {**EXPECTED, "501": None, "502": None}
        assert deal_links(report) == (1, 0, 5, 1, 1, 3)


def test_an_upload_is_linked_and_summarised_without_holding_the_workspace(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A dry run is held inside its summary (the last step before its answer); meanwhile
    another thread takes the workspace for a write at once, then the dry run completes."""
    access = WorkspaceAccess(str(tmp_path / "ws"))
    mapping = load_preset("pipedrive")
    deals = write(tmp_path / "deals.csv", DEALS)
    acts = write(tmp_path / "acts.csv", ACTIVITIES)
    with access.store() as store:
        import_files(store, [deals], mapping=mapping)
    summarising, release = threading.Event(), threading.Event()
    real_date_ranges = summary_module.date_ranges

    def held_date_ranges(*args: Any, **kwargs: Any) -> Any:
        summarising.set()
        release.wait(timeout=120)
        return real_date_ranges(*args, **kwargs)

    monkeypatch.setattr(summary_module, "date_ranges", held_date_ranges)
    result: dict[str, Any] = {}
    runner = threading.Thread(
        target=lambda: result.update(preview=dry_run(access.store, [acts], mapping))
    )
    runner.start()
    try:
        assert summarising.wait(timeout=120)
        free = access._lock.acquire(blocking=False)  # the lock every write takes
        if free:
            access._lock.release()
    finally:
        release.set()
        runner.join(timeout=120)
        access.close()
    assert free, "the workspace was held while the upload was summarised"
    preview = result["preview"]
    assert preview.error is None
    (link,) = [c for c in preview.summary.links if c.column == "deal_id"]
    assert (link.resolved, link.by_name, link.name_unmatched) == (3, 3, 1)
