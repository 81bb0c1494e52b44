"""Linking and summarising an import's mapped rows, where the rows were mapped.

An import's links by name and its summary need a few of the workspace's rows: the names
and ids of the records an export names (`links.TARGETS`) and the ids of the tables its
link columns point at (`summary.LINKS`). A server copies those rows (`link_inputs`), with
the workspace's data version (`links_version`), while it holds the workspace for a moment
before the files are mapped; the worker that maps the files then links and summarises
them too (`link_apart`), off the server's event loop and out of its process. When the
import is written, the server only compares the version and puts the resolved link
columns in place (`Linked.apply`). An import or undo committed meanwhile changes the
version: the server then links and summarises the same mapped rows itself (the worker's
resolution is kept beside the rows, never written into them). Files that update stored
rows (`partial: true`) need those rows whole: the server links such imports itself.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import pyarrow as pa

from crmroi.ingest.links import TARGETS, name_index, resolve_names
from crmroi.ingest.mapping import MappingFile
from crmroi.ingest.summary import LINKS, ImportSummary, build_summary
from crmroi.ingest.transform import MappedTable
from crmroi.store.schema import ID_COLUMN, TABLES
from crmroi.store.store import BATCHES_TABLE, Store


@dataclass(frozen=True)
class LinkInputs:
    """The workspace rows linking and summarising read, copied at data version `version`."""

    version: str
    base_currency: str
    names: dict[str, pa.Table] = field(default_factory=dict)
    """table -> its (name, id) rows of the import's source system"""
    known: dict[str, pa.Array] = field(default_factory=dict)
    """table -> the ids of its rows of the import's source system"""


@dataclass
class Linked:
    """What `link_apart` found for mapped files (in their order), at data version `version`."""

    version: str
    summary: ImportSummary
    resolved: list[dict[str, pa.ChunkedArray]]
    """per file: link column -> its ids once names were resolved"""
    links_by_name: list[dict[str, tuple[int, int, int]]]
    """per file: `MappedTable.links_by_name` once names were resolved"""

    def apply(self, tables: Sequence[MappedTable]) -> ImportSummary:
        """Put the resolved link columns into `tables` (the files this was found for);
        return the summary."""
        if len(tables) != len(self.resolved):
            raise ValueError("linked for other files")
        for m, columns, counts in zip(tables, self.resolved, self.links_by_name, strict=True):
            for name, values in columns.items():
                m.table = m.table.set_column(m.table.column_names.index(name), name, values)
            m.links_by_name = dict(counts)
        return self.summary


def links_version(store: Store) -> str:
    """A digest of the workspace's import batches and their status: every import, undo
    and demo load changes it, and nothing else writes the tables linking reads."""
    rows = store.table(BATCHES_TABLE).select("batch_id", "status").order_by("batch_id")
    table = rows.to_pyarrow()
    digest = hashlib.sha256()
    batches, statuses = table.column(0).to_pylist(), table.column(1).to_pylist()
    for batch_id, status in zip(batches, statuses, strict=True):
        digest.update(f"{batch_id}\t{status}\n".encode())
    return digest.hexdigest()[:16]


def workspace_rows(store: Store, name: str, source_system: str, columns: list[str]) -> pa.Table:
    """Some columns of the workspace's rows of one table from one source system."""
    table = store.table(name)
    return table.filter(table.source_system == source_system).select(*columns).to_pyarrow()


def workspace_ids(store: Store, name: str, source_system: str) -> pa.Array:
    """The ids of the workspace's rows of one table from one source system, as text."""
    rows = workspace_rows(store, name, source_system, [ID_COLUMN[name]])
    return rows.column(0).combine_chunks().cast(pa.string())


def named_targets(tables: Sequence[MappedTable]) -> set[str]:
    """The tables whose records the mapped files name (and that have a `name` column)."""
    named = {TARGETS[c] for t in tables for c in t.names if c in TARGETS}
    return {name for name in named if "name" in TABLES[name].content_names}


def link_targets(tables: Sequence[MappedTable]) -> set[str]:
    """The tables the mapped files' link columns point at."""
    return {LINKS[c] for t in tables for c in t.table.column_names if c in LINKS}


def link_inputs(store: Store, mapping_file: MappingFile, entity: str | None) -> LinkInputs | None:
    """The rows any file `mapping_file` maps (to `entity`, when given) could need linked
    and summarised; None when one of its tables is partial (linked by the server)."""
    mappings = [t for t in mapping_file.tables if entity in (None, t.entity)]
    if any(t.partial for t in mappings):
        return None
    system = mapping_file.source_system
    named = {TARGETS[c] for t in mappings for c, spec in t.columns.items() if spec.names}
    named = {n for n in named if "name" in TABLES[n].content_names}
    targets = {LINKS[c] for t in mappings for c in TABLES[t.entity].column_names if c in LINKS}
    return LinkInputs(
        links_version(store),
        store.base_currency,
        {n: workspace_rows(store, n, system, ["name", ID_COLUMN[n]]) for n in sorted(named)},
        {n: workspace_ids(store, n, system) for n in sorted(targets)},
    )


def link_and_summarise(
    tables: Sequence[MappedTable],
    names: Mapping[str, pa.Table],
    known: Mapping[str, pa.Array],
    base_currency: str,
) -> ImportSummary:
    """Resolve links given by name (`names`: the workspace's records by table), then
    summarise the import against the workspace's ids (`known`). Pure; fills the tables'
    link columns and `links_by_name`."""
    warnings = resolve_names(tables, name_index(tables, names))
    return build_summary(tables, known, base_currency, warnings)


def link_apart(tables: Sequence[MappedTable], inputs: LinkInputs) -> Linked | None:
    """`link_and_summarise` with the copied rows of `inputs`, leaving `tables` as they
    were: the resolved link columns are returned beside them. None when the files need
    what `inputs` lacks (partial or streamed files, a table not copied)."""
    if any(t.given is not None or t.staged is not None for t in tables):
        return None
    named, targets = named_targets(tables), link_targets(tables)
    if not (named <= inputs.names.keys() and targets <= inputs.known.keys()):
        return None
    before = [{c: t.table.column(c) for c in t.names if c in TARGETS} for t in tables]
    summary = link_and_summarise(
        tables,
        {n: inputs.names[n] for n in sorted(named)},
        {n: inputs.known[n] for n in sorted(targets)},
        inputs.base_currency,
    )
    resolved, counts = [], []
    for t, original in zip(tables, before, strict=True):
        resolved.append({c: t.table.column(c) for c in original})
        counts.append(t.links_by_name)
        for name, values in original.items():  # as mapped: the server may link again
            t.table = t.table.set_column(t.table.column_names.index(name), name, values)
        t.links_by_name = {}
    return Linked(inputs.version, summary, resolved, counts)
