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

from crmroi.messages import M_, Message, Said

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
    generalised to '…'; a `Said` when the reason is a message) and the number of rows it
    refused; None for no rejects."""
    rows: dict[str, set[int]] = {}
    first: dict[str, Reject] = {}
    for reject in rejects:
        text = common_reason_text(reject)
        rows.setdefault(text, set()).add(reject.row)
        first.setdefault(text, reject)
    if not rows:
        return None
    text, refused = max(rows.items(), key=lambda item: len(item[1]))
    return common_reason(first[text]), len(refused)


_QUOTED = re.compile(r"'[^']*'")


def common_reason_text(reject: Reject) -> str:
    """A reject's reason as `most_common_reason` groups it: "column X: reason", values in
    quotes generalised to '…'."""
    reason = _QUOTED.sub("'…'", reject.reason)
    return f"column {reject.column}: {reason}" if reject.column else reason


def common_reason(reject: Reject) -> str:
    """`common_reason_text`, as a `Said` when the reason is a message whose parameters,
    generalised the same way, give the same English text (else the plain text)."""
    text = common_reason_text(reject)
    said = reject.reason
    if not isinstance(said, Said):
        return text
    message = _generalised(said.message)
    if reject.column:
        message = M_(
            "import_in_column",
            "column %(column)s: %(reason)s",
            column=reject.column,
            reason=message,
        )
    out = Said(message)
    return out if out == text else text


def _generalised(message: Message) -> Message:
    """`message` with values in quotes in its text parameters generalised to '…'."""
    params = dict(message.params)
    for key, value in params.items():
        if isinstance(value, str):
            params[key] = _QUOTED.sub("'…'", value)
        elif isinstance(value, Message):
            params[key] = _generalised(value)
    return Message(message.code, message.text, params)
