"""Rejected rows: what was refused, where, and why.

A reason is English text; the importer's own reasons are messages (`crmroi.messages`)
kept as a `Said`, so the text stays the same in files, the database and JSON while the
import wizard words it in the reader's language and the API gives its stable code.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Iterable
from dataclasses import asdict, dataclass, fields
from pathlib import Path

from crmroi.messages import Message, Said

CELL = "{v}"
"""A reason message's parameter standing for the refused cell's text (`reason_text`)."""
CELL_REPR = "{v!r}"
"""A reason message's parameter standing for the refused cell in quotes ('abc')."""

FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


@dataclass(frozen=True)
class Reject:
    """One refused row (or cell): file, 1-based row as a spreadsheet shows it, column, reason."""

    file: str
    row: int
    column: str
    reason: str
    value: str = ""


def reason_text(reason: str | Message, cell: str) -> str:
    """The reason one cell is refused: a text template's `{v}` filled with the cell, or a
    message's `CELL` / `CELL_REPR` parameters replaced by it (a `Said`)."""
    if isinstance(reason, Message):
        params = {
            k: repr(cell) if v == CELL_REPR else cell if v == CELL else v
            for k, v in reason.params.items()
        }
        return Said(Message(reason.code, reason.text, params))
    return reason.format(v=cell)


def reason_code(reason: str) -> str | None:
    """The stable code of an importer's reason (None for a reason given as plain text)."""
    return reason.message.code if isinstance(reason, Said) else None


def neutralise_formula(text: str) -> str:
    """Prefix text a spreadsheet would run as a formula with a quote (CSV injection guard)."""
    return "'" + text if text.startswith(FORMULA_PREFIXES) else text


def write_rejects_csv(rejects: Iterable[Reject], path: Path) -> int:
    """Write rejects as UTF-8 CSV (with BOM, so spreadsheets pick the encoding); return count."""
    path.parent.mkdir(parents=True, exist_ok=True)
    count = 0
    with path.open("w", encoding="utf-8-sig", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=[f.name for f in fields(Reject)])
        writer.writeheader()
        for reject in rejects:
            row = {k: neutralise_formula(str(v)) for k, v in asdict(reject).items()}
            writer.writerow(row)
            count += 1
    return count


def most_common_reason(rejects: Iterable[Reject]) -> tuple[str, int] | None:
    """The most frequent reason among `rejects` ("column X: reason", values in quotes
    generalised to '…') and the number of rows it refused; None for no rejects."""
    rows: dict[str, set[int]] = {}
    for reject in rejects:
        rows.setdefault(common_reason_text(reject), set()).add(reject.row)
    if not rows:
        return None
    text, refused = max(rows.items(), key=lambda item: len(item[1]))
    return text, len(refused)


def common_reason_text(reject: Reject) -> str:
    """A reject's reason as `most_common_reason` groups it: "column X: reason", values in
    quotes generalised to '…'."""
    reason = re.sub(r"'[^']*'", "'…'", reject.reason)
    return f"column {reject.column}: {reason}" if reject.column else reason
