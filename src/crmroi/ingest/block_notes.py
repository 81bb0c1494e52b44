"""What the blocks of a streamed file found, merged over the whole file: value counts and
detection notes (a decimal separator, a date order), as a file read whole gives them."""

from __future__ import annotations

import re

from crmroi.ingest.columns import MAX_VALUES_SHOWN, ValueCount
from crmroi.ingest.streaming import NotStreamable

ValueKey = tuple[str, str, str, str | None, bool]
_BOOLEANS = re.compile(r"booleans \((\d+) true, (\d+) false\)")


def add_values(values: dict[ValueKey, int], block: list[ValueCount], most: int) -> None:
    """Add one block's value counts; a column with too many distinct values to count
    exactly block by block is read whole."""
    per_column: dict[str, int] = {}
    for v in block:
        per_column[v.column] = per_column.get(v.column, 0) + 1
        key = (v.column, v.source, v.value, v.canonical, v.mapped)
        values[key] = values.get(key, 0) + v.count
    if any(n >= most for n in per_column.values()):
        raise NotStreamable("too many distinct values in a mapped column")


def top_values(values: dict[ValueKey, int]) -> list[ValueCount]:
    """The merged counts as `ColumnNotes.values` lists them: by column, most frequent first."""
    columns: dict[str, list[ValueCount]] = {}
    for (column, source, value, canonical, mapped), n in values.items():
        columns.setdefault(column, []).append(
            ValueCount(column, source, value, canonical, n, mapped)
        )
    out: list[ValueCount] = []
    for counts in columns.values():
        out += sorted(counts, key=lambda v: -v.count)[:MAX_VALUES_SHOWN]
    return out


def merge_details(details: dict[str, list[str]]) -> dict[str, str]:
    """One detection note per column over all blocks. Blocks that decided a number's
    decimal separator or a date's order differently make the file be read whole (the
    decision is the whole column's); boolean counts are added up."""
    out: dict[str, str] = {}
    for column, notes in details.items():
        booleans = [_BOOLEANS.fullmatch(n) for n in notes]
        if all(booleans):
            true = sum(int(m.group(1)) for m in booleans if m)
            false = sum(int(m.group(2)) for m in booleans if m)
            out[column] = f"booleans ({true} true, {false} false)"
            continue
        seen = {n.split(" (")[0] for n in notes if n != "no dates"}
        if len(seen) > 1 or any("万" in n for n in notes):
            raise NotStreamable(f"blocks read {column} differently: {sorted(seen)}")
        decided = [n for n in notes if "ambiguous" not in n and n != "no dates"]
        out[column] = (decided or notes)[0]
    return out
