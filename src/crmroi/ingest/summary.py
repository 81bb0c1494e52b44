"""The summary a user checks after an import: ranges, money, values, links, warnings.

Pure: built from the mapped tables of an import and the ids the workspace already
holds; `summary_json` gives the same as plain data for `--format json` and the API.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, field, replace
from datetime import date, datetime
from typing import TYPE_CHECKING, Any

import pyarrow as pa
import pyarrow.compute as pc

from crmroi.ingest.columns import ValueCount
from crmroi.ingest.transform import MappedTable
from crmroi.store.schema import ID_COLUMN, TABLES

if TYPE_CHECKING:
    from crmroi.ingest.pipeline import ImportReport

LINKS: dict[str, str] = {
    "account_id": "accounts",
    "contact_id": "contacts",
    "lead_id": "leads",
    "deal_id": "deals",
}
"""Link columns and the table whose id they name."""


@dataclass(frozen=True)
class DateRange:
    """First and last value of a date column among the rows loaded."""

    table: str
    column: str
    first: datetime | date | None
    last: datetime | date | None
    filled: int
    rows: int


@dataclass(frozen=True)
class MoneyTotal:
    """Sum of a table's main amount per original currency, before and after conversion."""

    table: str
    currency: str
    rows: int
    original: float
    converted: float
    base_currency: str


@dataclass(frozen=True)
class LinkCount:
    """How many rows' link names a record of the workspace or the import, and how many not."""

    table: str
    column: str
    target: str
    resolved: int
    unresolved: int  # an id that no row of the target table has
    empty: int  # no link at all (a deal without an account)
    by_name: int = 0  # of the linked rows: linked by the record's name or title
    name_unmatched: int = 0  # of the empty rows: a name no record has
    name_ambiguous: int = 0  # of the empty rows: a name several records share


@dataclass
class ImportSummary:
    """Everything beyond the row counts that a user checks after an import."""

    dates: list[DateRange] = field(default_factory=list)
    money: list[MoneyTotal] = field(default_factory=list)
    values: list[tuple[str, ValueCount]] = field(default_factory=list)  # (table, count)
    links: list[LinkCount] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)


def date_ranges(entity: str, table: pa.Table) -> list[DateRange]:
    """The range of every date and timestamp column of one file's loaded rows."""
    out = []
    for col in TABLES[entity].columns:
        if col.kind not in ("timestamp", "date"):
            continue
        values = table.column(col.name)
        filled = len(values) - values.null_count
        if not filled:
            continue
        bounds = pc.min_max(values).as_py()
        out.append(DateRange(entity, col.name, bounds["min"], bounds["max"], filled, len(values)))
    return out


def money_totals(entity: str, table: pa.Table, base_currency: str) -> list[MoneyTotal]:
    """Per original currency: rows, sum of the original amounts, sum converted."""
    if not TABLES[entity].has_currency or not table.num_rows:
        return []
    grouped = table.group_by("currency").aggregate(
        [("amount_original", "sum"), ("amount", "sum"), ([], "count_all")]
    )
    out = []
    for row in grouped.to_pylist():
        out.append(
            MoneyTotal(
                entity,
                row["currency"] or base_currency,
                int(row["count_all"]),
                float(row["amount_original_sum"] or 0.0),
                float(row["amount_sum"] or 0.0),
                base_currency,
            )
        )
    return sorted(out, key=lambda m: (-m.rows, m.currency))


def link_counts(entity: str, table: pa.Table, known: Mapping[str, pa.Array]) -> list[LinkCount]:
    """For each link column: rows whose id is known (workspace or this import), unknown, empty."""
    out = []
    for column, target in LINKS.items():
        if column == ID_COLUMN.get(entity) or column not in table.column_names:
            continue
        if target not in known:
            continue
        ids = table.column(column)
        empty = ids.null_count
        found = pc.is_in(ids, value_set=known[target], skip_nulls=True)
        resolved = int(pc.sum(pc.fill_null(found, False)).as_py() or 0)
        out.append(LinkCount(entity, column, target, resolved, len(ids) - empty - resolved, empty))
    return out


def merge_links(counts: Iterable[LinkCount]) -> list[LinkCount]:
    """Add up the link counts of several files of the same table."""
    merged: dict[tuple[str, str], LinkCount] = {}
    for c in counts:
        key = (c.table, c.column)
        if key in merged:
            m = merged[key]
            c = LinkCount(
                c.table,
                c.column,
                c.target,
                m.resolved + c.resolved,
                m.unresolved + c.unresolved,
                m.empty + c.empty,
                m.by_name + c.by_name,
                m.name_unmatched + c.name_unmatched,
                m.name_ambiguous + c.name_ambiguous,
            )
        merged[key] = c
    return [c for c in merged.values() if c.resolved or c.unresolved]


def build_summary(
    mapped: Sequence[MappedTable],
    known: Mapping[str, pa.Array],
    base_currency: str,
    warnings: Sequence[str] = (),
) -> ImportSummary:
    """The summary of an import's mapped files; `known` holds the workspace's ids of each
    table a link column names (this import's own ids are added here)."""
    parts: dict[str, list[pa.Array]] = {name: [values] for name, values in known.items()}
    for m in mapped:
        own = ID_COLUMN.get(m.entity)
        if own is not None and m.entity in parts:
            parts[m.entity] += m.table.column(own).chunks
            if m.staged is not None:
                parts[m.entity].append(m.staged.own_ids())
    ids = {
        name: pc.unique(pa.chunked_array(arrays, pa.string()).combine_chunks())
        for name, arrays in parts.items()
    }
    summary = ImportSummary()
    links: list[LinkCount] = []
    for m in mapped:
        if m.staged is not None:  # a streamed file: its rows are in the store
            summary.dates += m.staged.date_ranges()
            summary.money += m.staged.money_totals(base_currency)
            links += m.staged.link_counts(ids)
        else:
            summary.dates += date_ranges(m.entity, m.table)
            summary.money += money_totals(m.entity, m.table, base_currency)
            links += [_with_names(c, m) for c in link_counts(m.entity, m.table, ids)]
        summary.values += [(m.entity, v) for v in m.values]
        summary.warnings += m.warnings
    summary.links = merge_links(links)
    summary.warnings += warnings
    return summary


def _with_names(count: LinkCount, mapped: MappedTable) -> LinkCount:
    """A file's link count with what resolving names did to that column."""
    named = mapped.links_by_name.get(count.column)
    if named is None:
        return count
    return replace(count, by_name=named[0], name_unmatched=named[1], name_ambiguous=named[2])


def summary_json(summary: ImportSummary) -> dict[str, Any]:
    """The summary as JSON-ready data (dates as ISO 8601 text)."""

    def plain(value: object) -> object:
        return value.isoformat() if isinstance(value, date | datetime) else value

    return {
        "dates": [{k: plain(v) for k, v in asdict(d).items()} for d in summary.dates],
        "money": [asdict(m) for m in summary.money],
        "values": [{"table": t, **asdict(v)} for t, v in summary.values],
        "links": [asdict(link) for link in summary.links],
        "warnings": list(summary.warnings),
    }


def report_json(report: ImportReport) -> dict[str, Any]:
    """A whole import report as JSON-ready data (`crmroi import --format json`)."""
    return {
        "batch_id": report.batch_id,
        "source_system": report.source_system,
        "rows_in": report.rows_in,
        "rows_loaded": report.rows_loaded,
        "rows_refused": report.rows_rejected,
        "files": [
            {
                "file": f.path.name,
                "table": f.entity,
                "export": f.label,
                "rows": f.rows_in,
                "inserted": f.inserted,
                "updated": f.updated,
                "unchanged": f.unchanged,
                "refused": f.rejected,
                "encoding": f.encoding,
                "delimiter": f.delimiter,
            }
            for f in report.files
        ],
        **summary_json(report.summary),
        "refused": [asdict(r) for r in report.rejects[:1000]],
        "refused_total": report.rejects_total,
        "refused_file": None if report.rejects_path is None else str(report.rejects_path),
    }
