"""What an import could only have guessed, found and said: totals rows below the data,
ids a spreadsheet rounded to scientific notation, a lone "1.500" (thousands or
decimals?) and dates whose day/month order nothing in the file tells.

Pure: takes raw string columns, returns masks, a date order, and warnings as messages
(`crmroi.messages`) naming file, column, an example and what to do.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import TypeVar

import numpy as np
import pandas as pd

from crmroi.ingest.mapping import TableMapping
from crmroi.ingest.reading import RawTable
from crmroi.ingest.rejects import CELL_REPR
from crmroi.ingest.values import DateOrder, Parsed, assumed_date_order, date_order_votes
from crmroi.messages import M_, Items, Message, Said
from crmroi.store.schema import Column

T = TypeVar("T")

__all__ = [
    "SPREADSHEET_ID",
    "Guesses",
    "content_rows",
    "file_date_order",
    "leave_out_totals",
    "settle_numbers",
    "spreadsheet_ids",
    "totals_rows",
]

SPREADSHEET_ID = M_(
    "import_spreadsheet_id",
    "%(value)s is an id a spreadsheet rounded to scientific notation, so the real id is "
    "lost: import the CRM's own export file, not one re-saved from a spreadsheet",
    value=CELL_REPR,
)

_TOTALS_LABEL = re.compile(
    r"^(?:grand\s+)?(?:totals?|sub-?totals?|sum|summe|gesamt(?:summe)?|insgesamt|"
    r"total\s+g[ée]n[ée]ral|totale|totaal|razem|suma|итого|итог|всего|общо|"
    r"合计|合計|总计|總計|小计|小計|共计|共計|جمع(?:\s+کل)?|مجموع(?:\s+کل)?|الإجمالي)"
    r"\s*[:：]?\s*(?:\(.*\)|（.*）)?$",
    re.IGNORECASE,
)
_SCIENTIFIC_ID = r"^[0-9][.,][0-9]+[eE]\+[0-9]{1,3}$"


def totals_rows(frame: pd.DataFrame) -> np.ndarray:
    """Rows that are a report's totals ("Total", "Grand Totals (12 records)", "Итого",
    "合计", "جمع کل" as the first filled cell), in the block of rows ending the file and
    with fewer cells filled than the fullest row: a record that happens to be named
    "Total" (the company) fills its row and is kept."""
    n = len(frame)
    found = np.zeros(n, dtype=bool)
    if not n or not len(frame.columns):
        return found
    cells = frame.to_numpy(dtype=object)
    filled = pd.notna(frame).to_numpy().sum(axis=1)
    widest = int(filled.max())
    for i in range(n - 1, -1, -1):
        row = cells[i]
        first = next((str(v).strip() for v in row if v is not None and str(v).strip()), None)
        if first is None:
            continue  # blank rows between totals
        if not _TOTALS_LABEL.match(first) or filled[i] >= widest:
            break
        found[i] = True
    return found


def content_rows(frame: pd.DataFrame, max_footer_rows: int = 5) -> np.ndarray:
    """Rows that hold data: not blank, not a report footer.

    Spreadsheet and CRM report exports (Salesforce reports among them) end with a
    blank line and a few one-cell lines such as "Confidential Information - Do Not
    Distribute"; those are layout, not records.
    """
    filled = frame.notna().to_numpy().sum(axis=1) if len(frame.columns) else np.zeros(0)
    keep = filled > 0
    blanks = np.flatnonzero(~keep)
    if len(blanks):
        tail = filled[blanks[-1] + 1 :]
        if 0 < len(tail) <= max_footer_rows and (tail <= 1).all() and len(frame.columns) > 1:
            keep[blanks[-1] + 1 :] = False
    return keep


def _filled(value: object) -> bool:
    return value is not None and value is not pd.NA and bool(str(value).strip())


def leave_out_totals(raw: RawTable, keep: np.ndarray) -> str | None:
    """Clear in `keep` (the rows of `raw.frame` that hold data) the totals rows ending the
    data (`totals_rows`): layout, like a report's footer, not records; a warning naming
    their file rows and labels, or None when there are none."""
    kept = np.flatnonzero(keep)
    found = kept[totals_rows(raw.frame.iloc[kept].reset_index(drop=True))]
    if not len(found):
        return None
    keep[found] = False
    shown = []
    for i in found:
        label = next(str(v).strip() for v in raw.frame.iloc[int(i)] if _filled(v))
        shown.append(f"{raw.row_number(int(i))} ({label!r})")
    return Said(
        M_(
            "import_totals_rows",
            "%(file)s: rows %(rows)s are totals of the rows above, not records; left out",
            file=raw.path.name,
            rows=Items(shown),
        )
    )


def _ignore(mask: pd.Series, column: str, reason: str | Message, values: pd.Series | None) -> None:
    """A `Refuse` for a second reading whose refusals the first one made."""


def settle_numbers(
    wanted: Sequence[Column],
    texts: dict[str, tuple[pd.Series, str] | None],
    mapping: TableMapping,
    guesses: Guesses,
    detected: dict[str, str],
    parse: Callable[..., T],
) -> dict[str, T]:
    """Number columns read again, with the decimal separator the file's other number
    columns show, whose lone "1.500" cells the convention read otherwise (amounts
    "1,234.56" make a cost of "1.500" 1.5); `parse`: the transform's column parser. The
    cells the first reading refused are the same (only lone separators read differently)."""
    settled = guesses.settled_numbers()
    out: dict[str, T] = {}
    for col in wanted:
        text = texts.get(col.name)
        if text is None or text[1] not in settled:
            continue
        decimal = settled[text[1]]
        numbers = mapping.numbers.model_copy(update={"decimal": decimal, "thousands": None})
        again = mapping.model_copy(update={"numbers": numbers})
        out[col.name] = parse(col, text[0], text[1], again, _ignore, detected)
    return out


def spreadsheet_ids(text: pd.Series) -> pd.Series:
    """Id cells such as 1.23457E+11: a long id a spreadsheet showed in scientific notation
    and saved so; its digits are lost. A literal search for the exponent's "+" first: ids
    almost never hold one, so the pattern runs on few columns, not on every id cell."""
    if not bool(text.str.contains("+", regex=False).fillna(False).any()):
        return pd.Series(False, index=text.index, dtype=bool)
    return text.str.contains(_SCIENTIFIC_ID, regex=True).fillna(False).astype(bool)


def file_date_order(columns: Iterable[pd.Series]) -> DateOrder | None:
    """The day/month order the file's date columns show together (a part above 12 in any
    of them), or None when they show none or contradict each other."""
    dmy = mdy = 0
    for text in columns:
        d, m = date_order_votes(text)
        dmy, mdy = dmy + d, mdy + m
    if dmy and not mdy:
        return "DMY"
    if mdy and not dmy:
        return "MDY"
    return None


@dataclass
class Guesses:
    """Cells read by a convention, per source column: (rows, an example, how it was read:
    the decimal separator of numbers, the day/month order of dates); `order`: the
    day/month order given for every date column; `dated`: the file's date columns (raw
    text), whose order settles a column whose own dates do not (`shown_order`)."""

    order: DateOrder | None = None
    dated: Sequence[pd.Series] = ()
    _shown: tuple[DateOrder | None] | None = field(default=None, repr=False)
    numbers: dict[str, tuple[int, str, str]] = field(default_factory=dict)
    dates: dict[str, tuple[int, str, str]] = field(default_factory=dict)
    read: dict[str, float] = field(default_factory=dict)
    """the number each guessed column's example was read as"""
    decimals: set[str] = field(default_factory=set)
    """decimal separators the file's number columns showed ("1.234,56" or "2.5")"""

    def shown_order(self) -> DateOrder | None:
        """The day/month order the file's date columns show together (`file_date_order`),
        worked out once and only when a column needs it: a pass over every date cell,
        which files of ISO dates never pay."""
        if self._shown is None:
            self._shown = (file_date_order(self.dated),)
        return self._shown[0]

    def note(
        self,
        kind: str,
        column: str,
        parsed: Parsed,
        text: pd.Series,
        counts: np.ndarray | None,
    ) -> None:
        """Remember `parsed`'s guessed cells of source `column` (each `counts` rows)."""
        if kind == "numbers" and parsed.decimal_shown and parsed.decimal is not None:
            self.decimals.add(parsed.decimal)
        if parsed.guessed is None:
            return
        flags = parsed.guessed.to_numpy(dtype=bool)
        rows = int(flags.sum()) if counts is None else int(np.asarray(counts)[flags].sum())
        example = str(text[parsed.guessed].iloc[0])
        if kind == "numbers":
            found, how = self.numbers, str(parsed.decimal)
        else:  # every guessed date was read in its separator's default order
            found, how = self.dates, assumed_date_order(example)
        before = found.get(column, (0, example, how))
        found[column] = (before[0] + rows, before[1], how)
        if kind == "numbers" and column not in self.read:
            self.read[column] = float(parsed.values[parsed.guessed].iloc[0])

    def settled_numbers(self) -> dict[str, str]:
        """Guessed number columns the file's other number columns settle, their warnings
        dropped: those the convention read with another separator, source column -> the
        file's decimal separator to read them again with."""
        if len(self.decimals) != 1:
            return {}
        decimal = next(iter(self.decimals))
        again = {
            column: decimal for column, (_, _, used) in self.numbers.items() if used != decimal
        }
        self.numbers.clear()
        return again

    def warnings(self, file: str) -> list[str]:
        out: list[str] = []
        for column, (n, example, _) in self.numbers.items():
            separator = "." if "." in example else ","
            value = self.read.get(column, float("nan"))
            grouped = abs(value) >= 1000  # "1.500" read as 1500: the separator grouped
            other = separator if grouped else ("," if separator == "." else ".")
            out.append(
                Said(
                    M_(
                        "import_guessed_separator",
                        "%(file)s, column %(column)s: %(n)s numbers such as %(example)s have "
                        "one separator before three digits, and no number of the file tells "
                        "whether it groups thousands or starts decimals; %(example)s was read "
                        'as %(read)s. If that is wrong, set numbers: {decimal: "%(decimal)s"} '
                        "in a mapping",
                        file=file,
                        column=repr(column),
                        n=str(n),
                        example=repr(example),
                        read=f"{value:g}" if not grouped else f"{value:.0f}",
                        decimal=other,
                    )
                )
            )
        for column, (n, example, read) in self.dates.items():
            other = "MDY" if read == "DMY" else "DMY"
            out.append(
                Said(
                    M_(
                        "import_guessed_date_order",
                        "%(file)s, column %(column)s: %(n)s dates such as %(example)s could be "
                        "day-first or month-first, and no date of the file tells which; they "
                        "were read as %(read)s. If that is wrong, import again with "
                        "--date-order %(other)s (or dates: {order: %(other)s} in a mapping)",
                        file=file,
                        column=repr(column),
                        n=str(n),
                        example=repr(example),
                        read=read,
                        other=other,
                    )
                )
            )
        return out
