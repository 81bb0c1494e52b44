"""Header rows: where the header of an export is, and duplicated header names.

Report exports (Salesforce reports, Bitrix24, spreadsheets saved by hand) put title rows above
the header ("Deals report", "Generated 2024-02-01", a blank row). The header is the row given
by the user (`header_row:` in the mapping's csv settings, 1-based), else the first of the first
rows that holds the most names the mapping looks for, else, below a one-cell title row, the
first row with at least two cells. Header names that repeat are kept apart ("Amount",
"Amount (2)"); a mapping that reads a repeated name is refused, naming it.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING

from crmroi.errors import MappingError
from crmroi.ingest import refusals
from crmroi.messages import Items

if TYPE_CHECKING:
    from crmroi.ingest.mapping import MappingFile, TableMapping

__all__ = [
    "HEADER_SCAN_ROWS",
    "check_duplicates",
    "dedupe_names",
    "duplicate_in_use",
    "find_header_row",
    "mapping_names",
    "with_header_row",
]

HEADER_SCAN_ROWS = 30
"""How many rows at the top of a file may be searched for the header."""


def _filled(row: Sequence[object]) -> list[str]:
    return [str(v).strip() for v in row if v is not None and str(v).strip() != ""]


def find_header_row(rows: Sequence[Sequence[object]], expected: Iterable[str] = ()) -> int:
    """The 0-based index of the header among the first rows of a file.

    With `expected` names (the mapping's columns), the first row holding the most of them,
    when it holds more than the first row, and the first row when it holds any; otherwise,
    when the first row has exactly one filled cell (a title), the first later row with two
    or more; else 0 (an empty first row is no title: the reader refuses it).
    """
    top = [list(r) for r in rows[:HEADER_SCAN_ROWS]]
    if not top:
        return 0
    wanted = {e.strip().casefold() for e in expected if e and e.strip()}
    if wanted:
        scores = [sum(c.casefold() in wanted for c in _filled(r)) for r in top]
        best = max(scores)
        if best > scores[0]:
            return scores.index(best)
        if scores[0] > 0:
            return 0  # the first row names a column the mapping reads: it is the header
    if len(_filled(top[0])) == 1:
        for i, row in enumerate(top):
            if len(_filled(row)) >= 2:
                return i
    return 0


def dedupe_names(names: Sequence[str]) -> tuple[list[str], dict[str, list[int]]]:
    """Header names made unique ("Amount", "Amount (2)", ...) and the repeated ones with the
    1-based positions of their columns."""
    seen: dict[str, list[int]] = {}
    for position, name in enumerate(names, start=1):
        seen.setdefault(name.casefold(), []).append(position)
    taken = {n.casefold() for n in names}
    out: list[str] = []
    count: dict[str, int] = {}
    for name in names:
        key = name.casefold()
        count[key] = count.get(key, 0) + 1
        if count[key] == 1:
            out.append(name)
            continue
        k = count[key]
        candidate = f"{name} ({k})"
        while candidate.casefold() in taken:
            k += 1
            candidate = f"{name} ({k})"
        taken.add(candidate.casefold())
        out.append(candidate)
    duplicates = {names[p[0] - 1]: p for p in seen.values() if len(p) > 1}
    return out, duplicates


def duplicate_in_use(
    file_name: str, duplicates: dict[str, list[int]], used: Iterable[str]
) -> MappingError | None:
    """The error for a mapping that reads a header name the file repeats, or None."""
    repeated = {name.casefold(): (name, cols) for name, cols in duplicates.items()}
    for name in used:
        hit = repeated.get(name.strip().casefold())
        if hit is not None:
            shown, cols = hit
            where = Items(str(c) for c in cols)
            return MappingError(refusals.repeated_header(file_name, len(cols), shown, where))
    return None


def mapping_names(tables: Iterable[TableMapping]) -> list[str]:
    """Every source column name the table mappings look for (their columns, names and
    `detect` lists): the names a header row is recognised by."""
    out: list[str] = []
    for table in tables:
        out.extend(table.detect)
        for spec in table.columns.values():
            out.extend(spec.alternatives)
            out.extend(spec.names)
    return out


def check_duplicates(
    file_name: str, header: Sequence[str], duplicates: dict[str, list[int]], table: TableMapping
) -> None:
    """Refuse a mapping that reads a header name the file repeats (MappingError naming it);
    a repeated column the mapping does not read is harmless. `header` holds the file's
    column names (a repeated name appears once, its later copies renamed)."""
    if not duplicates:
        return
    present = {name.strip().casefold() for name in header}
    used: list[str] = []
    for spec in table.columns.values():
        found = [a for a in spec.alternatives if a.strip().casefold() in present]
        used.extend(found if spec.coalesce or spec.join is not None else found[:1])
        used.extend(spec.names)
    error = duplicate_in_use(file_name, duplicates, used)
    if error is not None:
        raise error


def with_header_row(mapping: MappingFile, header_row: int | None) -> MappingFile:
    """``mapping`` with every table's header at row ``header_row`` (1-based; `crmroi import
    --header-row`), overriding detection and the mapping's own `csv: {header_row: ...}`."""
    if header_row is None:
        return mapping
    if header_row < 1:
        raise ValueError(f"the header row must be 1 or more, not {header_row}")
    tables = [
        t.model_copy(update={"csv": t.csv.model_copy(update={"header_row": header_row})})
        for t in mapping.tables
    ]
    return mapping.model_copy(update={"tables": tables})
