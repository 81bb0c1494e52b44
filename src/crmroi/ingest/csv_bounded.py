"""Bounds for text files: header width, cell count and field length, checked before parsing.

A 0.9 MB CSV with 100,000 columns, or a few megabytes of delimiters, becomes millions of
Python objects once parsed; these checks look at the header record and at the line count
first and refuse such files with a one-line reason naming the setting that allows more
(:class:`crmroi.limits.InputLimits`). Also: cells written as Excel text formulas.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from pathlib import Path

import pandas as pd

from crmroi.errors import InputFileError
from crmroi.ingest import refusals
from crmroi.limits import InputLimits, refuse_many_cells, refuse_wide_header

__all__ = ["check_text_shape", "csv_error", "excel_text_formulas", "refuse_long_fields"]


def _records(text: str, delimiter: str, limits: InputLimits) -> Iterator[list[str]]:
    csv.field_size_limit(limits.max_field_bytes)
    return csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=False)


def check_text_shape(path: Path, text: str, delimiter: str, limits: InputLimits) -> None:
    """Refuse a text file whose header is too wide or whose rows x columns are too many.

    The row count is first bounded by the number of line breaks (quoted fields may hold
    some); only when that bound is over the limit are the records counted exactly.
    Also sets the csv module's field limit to ``max_field_bytes``.
    """
    try:
        reader = _records(text, delimiter, limits)
        header: list[str] = next(reader, [])
        width = len(header)
        refuse_wide_header(path, width, limits)
        if width == 0 or (text.count("\n") + 1) * width <= limits.max_cells:
            return
        rows = 1
        for _ in reader:
            rows += 1
            refuse_many_cells(path, rows, width, limits)
    except csv.Error as exc:
        raise csv_error(path, exc, limits) from None


def csv_error(path: Path, exc: csv.Error, limits: InputLimits) -> InputFileError:
    """The one-line error for a file the csv module cannot parse."""
    if "field larger than field limit" in str(exc):
        return InputFileError(path, refusals.field_limit(limits.max_field_bytes))
    return InputFileError(path, refusals.not_csv(exc))


def refuse_long_fields(
    path: Path, frame: pd.DataFrame, text_chars: int, limits: InputLimits
) -> None:
    """Refuse a parsed table holding a field longer than ``max_field_bytes`` characters."""
    limit = limits.max_field_bytes
    if text_chars <= limit:
        return
    for position, name in enumerate(frame.columns):
        col = frame[name]
        lengths = col.map(lambda v: len(v) if isinstance(v, str) else 0)
        if len(lengths) and int(lengths.max()) > limit:
            row = int(lengths.to_numpy().argmax()) + 2
            raise InputFileError(path, refusals.long_field(row, name or position + 1, limit))


def excel_text_formulas(frame: pd.DataFrame) -> pd.DataFrame:
    """Cells written as Excel text formulas, ="00123" (exports that keep Excel from
    dropping an id's leading zeros), as the text they show: 00123."""
    out = frame
    for name in frame.columns:
        col = frame[name].astype("string[pyarrow]")
        wrapped = col.str.match(r'^="(?:[^"]|"")*"$').fillna(False).to_numpy(dtype=bool)
        if not wrapped.any():
            continue
        if out is frame:
            out = frame.copy()
        inner = col.str.slice(2, -1).str.replace('""', '"', regex=False)
        values = out[name].to_numpy(dtype=object).copy()
        values[wrapped] = inner.to_numpy(dtype=object)[wrapped]
        out[name] = pd.Series(values, index=frame.index, dtype=frame[name].dtype)
    return out
