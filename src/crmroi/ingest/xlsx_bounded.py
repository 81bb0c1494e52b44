"""Bounded XLSX reading: only the cells a sheet really holds, with columns and cells capped.

openpyxl's read-only rows are padded to the sheet's declared dimension (or to the last cell
of each row): a 1.5 KB workbook declaring ``A1:XFD1048576``, or one cell in column XFD on
every row, becomes billions of empty cells. Here the sheet XML is streamed cell by cell, the
declared dimension is ignored, cells right of the header are only reported, empty rows are
materialised only when a later row holds a value, and the header width, the cell count and
the workbook's unpacked size are checked against :class:`crmroi.limits.InputLimits`.
"""

from __future__ import annotations

import datetime as dt
import itertools
import warnings
import zipfile
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from crmroi.errors import InputFileError
from crmroi.ingest import refusals
from crmroi.ingest.headers import HEADER_SCAN_ROWS, find_header_row
from crmroi.ingest.reasons import wrong_field_count
from crmroi.limits import InputLimits, refuse_many_cells, refuse_wide_header

__all__ = ["SparseSheet", "cell_to_str", "read_xlsx_sparse"]


@dataclass
class SparseSheet:
    """One sheet read: header cells (trailing empties dropped), data rows as wide as the header."""

    sheet: str
    header: list[str | None]
    rows: list[list[str | None]] = field(default_factory=list)
    bad_rows: dict[int, str] = field(default_factory=dict)
    header_row: int = 1  # the header's row number (title rows above it are skipped)


def cell_to_str(value: Any) -> str | None:
    """Render an openpyxl cell value as the string a user would type."""
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dt.datetime):
        if value.time() == dt.time(0) and value.tzinfo is None:
            return value.date().isoformat()
        return value.replace(tzinfo=None).isoformat(
            timespec="seconds" if not value.microsecond else "microseconds"
        )
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, dt.time):
        return value.isoformat()
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if value.is_integer() and abs(value) < 1e16:
            return str(int(value))
        return repr(value)
    text = str(value)
    return text if text != "" else None


def _check_archive(path: Path, limits: InputLimits) -> None:
    if not zipfile.is_zipfile(path):
        raise InputFileError(path, refusals.NOT_XLSX)
    try:
        with zipfile.ZipFile(path) as archive:
            unpacked = sum(info.file_size for info in archive.infolist())
    except (zipfile.BadZipFile, OSError) as exc:
        raise InputFileError(path, refusals.xlsx_unreadable(exc)) from None
    if unpacked > limits.max_xlsx_unpacked_bytes:
        raise InputFileError(path, refusals.xlsx_unpacked(unpacked, limits.max_xlsx_unpacked_bytes))


def _values(cells: list[dict[str, Any]]) -> dict[int, str]:
    """Column number -> text of the cells holding a value."""
    out: dict[int, str] = {}
    for cell in cells:
        text = cell_to_str(cell["value"])
        if text is not None:
            out[int(cell["column"])] = text
    return out


def _stream(path: Path, sheet: str | None) -> tuple[str, Any]:
    """(sheet name, iterator of (row number, cell dicts)) over the chosen sheet's XML."""
    from openpyxl import load_workbook
    from openpyxl.worksheet._reader import WorkSheetParser

    try:
        wb = load_workbook(path, read_only=True, data_only=True)
    except Exception as exc:
        raise InputFileError(path, refusals.xlsx_unreadable(exc)) from None
    names = list(wb.sheetnames)
    if not names:
        raise InputFileError(path, refusals.NO_SHEETS)
    if sheet is None:
        chosen = names[0]
    elif sheet in names:
        chosen = sheet
    else:
        raise InputFileError(path, refusals.no_sheet(sheet, names))
    ws = wb[chosen]
    if not hasattr(ws, "_get_source"):
        raise InputFileError(path, refusals.chart_sheet(chosen))

    def rows() -> Any:
        try:
            with ws._get_source() as src:
                parser = WorkSheetParser(
                    src,
                    ws._shared_strings,
                    data_only=True,
                    epoch=wb.epoch,
                    date_formats=wb._date_formats,
                    timedelta_formats=wb._timedelta_formats,
                )
                yield from parser.parse()
        finally:
            wb.close()

    return chosen, rows()


def read_xlsx_sparse(
    path: Path,
    sheet: str | None,
    limits: InputLimits,
    header_row: int | None = None,
    header_names: Sequence[str] = (),
) -> SparseSheet:
    """Read one sheet; raises only :class:`InputFileError`.

    The header is row `header_row` (1-based) when given, else found among the first rows by
    `crmroi.ingest.headers.find_header_row` (title rows above it are skipped)."""
    _check_archive(path, limits)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        chosen, stream = _stream(path, sheet)
        try:
            head = list(itertools.islice(stream, HEADER_SCAN_ROWS))
            if header_row is None:
                grid: list[list[str | None]] = []
                for number, cells in head:
                    values = _values(cells)
                    grid.extend([] for _ in range(number - 1 - len(grid)))
                    grid.append([values[c] for c in sorted(values)])
                header_row = find_header_row(grid, header_names) + 1
            return _collect(path, chosen, itertools.chain(head, stream), limits, header_row)
        except InputFileError:
            raise
        except Exception as exc:
            raise InputFileError(path, refusals.xlsx_cannot_read(exc)) from None


def _collect(
    path: Path, chosen: str, stream: Any, limits: InputLimits, header_row: int = 1
) -> SparseSheet:
    out: SparseSheet | None = None
    width = 0
    pending = 0  # empty rows seen since the last row with a value
    last = header_row  # the last row number accounted for
    for number, cells in stream:
        if out is None and number < header_row:
            continue  # a title row above the header
        values = _values(cells)
        if out is None:
            if number != header_row or not values:
                return _no_header(path, chosen, values, stream, header_row)
            width = max(values)
            refuse_wide_header(path, width, limits)
            header = [values.get(c) for c in range(1, width + 1)]
            out = SparseSheet(chosen, header, header_row=header_row)
            continue
        if not values:
            continue
        pending += number - last - 1
        last = number
        refuse_many_cells(path, len(out.rows) + pending + 1, width, limits)
        out.rows.extend([None] * width for _ in range(pending))
        pending = 0
        row: list[str | None] = [None] * width
        beyond = 0
        for column, text in values.items():
            if column <= width:
                row[column - 1] = text
            else:
                beyond = max(beyond, column)
        if beyond:
            out.bad_rows[number] = wrong_field_count(beyond, width)
        out.rows.append(row)
    if out is None:
        raise InputFileError(path, refusals.sheet_empty(chosen))
    return out


def _no_header(
    path: Path, chosen: str, first: dict[int, str], stream: Any, header_row: int = 1
) -> SparseSheet:
    """The header row holds nothing: say whether the sheet is empty or only lacks its header."""
    if first or any(_values(cells) for _, cells in stream):
        raise InputFileError(path, refusals.sheet_no_header(header_row, chosen))
    raise InputFileError(path, refusals.sheet_empty(chosen))
