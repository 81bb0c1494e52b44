"""Low-level readers: CSV/TSV/TXT (any common encoding and delimiter) and XLSX to raw strings.

Every reader returns a :class:`RawTable` whose frame holds only ``str`` or ``None``; typing the
values is the job of :mod:`crmroi.ingest.values`. A file that cannot be read at all raises
:class:`~crmroi.errors.InputFileError`; nothing else escapes :func:`read_raw`.

Conventions:

* Row numbers are the ones a spreadsheet user sees: the header is row 1, the first data record
  row 2 (a quoted field with embedded newlines still counts as one row). Blank lines inside the
  data are kept as all-``None`` rows so the numbering stays right; trailing blank rows are dropped.
* NUL characters in text files are stripped (some tools pad exports with them).
* Rows with more fields than the header are kept (extra fields dropped) and reported in
  ``RawTable.bad_rows``; rows with fewer fields are padded with ``None``. Fields longer than
  ``max_field_chars`` are kept but reported in ``bad_rows`` too.
"""

from __future__ import annotations

import codecs
import contextlib
import csv
import io
import itertools
import warnings
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from crmroi.errors import InputFileError
from crmroi.ingest import import_notes, refusals
from crmroi.ingest.csv_bounded import (
    check_text_shape,
    csv_error,
    excel_text_formulas,
    refuse_long_fields,
)
from crmroi.ingest.encodings import (
    check_encoding_name,
    detect_encoding,
    garbled_words,
    guess_encoding,
    mostly_utf8,
)
from crmroi.ingest.headers import HEADER_SCAN_ROWS, dedupe_names, find_header_row
from crmroi.ingest.reasons import NOT_UTF8_ROW, wrong_field_count
from crmroi.ingest.xlsx_bounded import read_xlsx_sparse
from crmroi.limits import current_limits
from crmroi.messages import Items, Said

__all__ = [
    "DELIMITERS",
    "TEXT_EXTENSIONS",
    "XLSX_EXTENSIONS",
    "RawTable",
    "detect_delimiter",
    "detect_encoding",
    "read_raw",
    "sep_line",
]

TEXT_EXTENSIONS = frozenset({".csv", ".txt", ".tsv", ".tab"})
XLSX_EXTENSIONS = frozenset({".xlsx", ".xlsm"})
DELIMITERS: tuple[str, ...] = (",", ";", "\t", "|")

_SNIFF_CHARS = 64_000
_SNIFF_ROWS = 50
_BOM_CHARS = "\ufeff"


@dataclass(frozen=True)
class RawTable:
    """A table read from a file: every cell a ``str`` or ``None``, header from the first row."""

    path: Path
    frame: pd.DataFrame
    encoding: str | None
    delimiter: str | None
    sheet: str | None
    first_data_line: int = 2
    bad_rows: dict[int, str] = field(default_factory=dict)
    warnings: tuple[str, ...] = ()
    duplicates: dict[str, list[int]] = field(default_factory=dict)
    """header names the file repeats -> their 1-based column positions"""

    def row_number(self, position: int) -> int:
        """The file row number (as a spreadsheet shows it) of ``frame.iloc[position]``."""
        return self.first_data_line + position


# --------------------------------------------------------------------------- encodings


def _decode(path: Path, data: bytes, encoding: str | None) -> tuple[str, str, tuple[str, ...]]:
    """Decode ``data`` strictly; return (text without BOM and NULs, encoding used, warnings).

    Without ``encoding`` the candidates are scored by `guess_encoding`; a decoding that still
    holds improbable mixed-script words ("Mьller") gives a warning naming the encodings tried.
    """
    if encoding is None and (lenient := mostly_utf8(data)) is not None:
        return lenient.lstrip(_BOM_CHARS).replace("\x00", ""), "utf-8", ()
    if encoding is None:
        guess = guess_encoding(data)
        candidates = [guess.encoding, *(e for e in guess.tried if e != guess.encoding)]
        candidates = [e for e in candidates if e != "utf-8" or guess.encoding == "utf-8"]
        tried: tuple[str, ...] = guess.tried
    else:
        try:
            check_encoding_name(encoding)
        except ValueError as exc:
            raise InputFileError(path, str(exc)) from None
        candidates = [encoding]
        tried = (encoding,)
    first_error: UnicodeDecodeError | None = None
    for candidate in candidates:
        try:
            text = data.decode(candidate)
        except UnicodeDecodeError as exc:
            first_error = first_error or exc
            continue
        text = text.lstrip(_BOM_CHARS)
        if "\x00" in text:
            text = text.replace("\x00", "")
        return text, candidate, _garbling_warnings(path, text, candidate, tried, encoding)
    assert first_error is not None
    if encoding is None:
        reason = refusals.cannot_detect_encoding(candidates, first_error.start)
    else:
        reason = refusals.cannot_decode(encoding, data[first_error.start], first_error.start)
    raise InputFileError(path, reason)


def _garbling_warnings(
    path: Path, text: str, used: str, tried: tuple[str, ...], given: str | None
) -> tuple[str, ...]:
    """A warning when the decoded text has improbable mixed-script words."""
    bad, total, examples = garbled_words(text)
    if not bad:
        return ()
    shown = Items(repr(w) for w in examples)
    return (import_notes.garbled(path.name, bad, total, used, given is not None, tried, shown),)


# --------------------------------------------------------------------------- delimiters


def _sample_rows(text_sample: str, delimiter: str) -> list[list[str]]:
    lines = text_sample.splitlines(keepends=True)
    if len(lines) > 1 and not text_sample.endswith(("\n", "\r")):
        lines = lines[:-1]  # drop a possibly cut-off last line
    rows: list[list[str]] = []
    reader = csv.reader(lines, delimiter=delimiter, quotechar='"', doublequote=True, strict=False)
    with contextlib.suppress(csv.Error):
        for row in reader:
            if row:
                rows.append(row)
            if len(rows) >= _SNIFF_ROWS:
                break
    return rows


def detect_delimiter(text_sample: str) -> str:
    """Detect the field delimiter (",", ";", tab or "|") from the first lines of a text file.

    Each candidate splits the sample with Python's csv module (so quoted delimiters do not
    count); the winner gives the header more than one field and the most rows with exactly the
    header's field count, then needs no title row skipped above the header ("month;index"
    over rows "01.01.2023;1,00" is split by ";", not read as a title over comma rows), then
    the most fields. Defaults to "," for single-column files. A first line ``sep=;`` (which
    Excel writes and reads) gives the delimiter.
    """
    given, _ = sep_line(text_sample)
    if given is not None:
        return given
    best: tuple[float, int, int, int] | None = None
    best_delim = ","
    for rank, delim in enumerate(DELIMITERS):
        rows = _sample_rows(text_sample, delim)
        if not rows:
            continue
        skipped = 0
        while len(rows) > 1 and len(rows[0]) < 2:
            rows, skipped = rows[1:], skipped + 1  # title rows above the header
        width = len(rows[0])
        if width < 2:
            continue
        # one-field lines below the header (a report's footer: "Copyright ...",
        # "Generated By ...") say nothing about the delimiter
        body = [r for r in rows[1:] if len(r) > 1]
        consistent = (1 + sum(1 for r in body if len(r) == width)) / (1 + len(body))
        score = (consistent, int(skipped == 0), width, -rank)
        if best is None or score > best:
            best, best_delim = score, delim
    return best_delim


def sep_line(text: str) -> tuple[str | None, str]:
    """(the delimiter of a first line ``sep=X``, the text after that line), or (None, text).

    Excel writes and honours this line and does not show it, so rows are numbered without it.
    """
    if text[:4].lower() != "sep=":
        return None, text
    end = text.find("\n")
    line = text[: end if end >= 0 else len(text)].rstrip("\r")
    if len(line) != 5 or line[4] in '"\r\n':
        return None, text
    return line[4], text[end + 1 :] if end >= 0 else ""


# --------------------------------------------------------------------------- text files


def _finish_names(path: Path, header: Sequence[object]) -> list[str]:
    """Header cells as column names: stripped, blanks named column_N, repeats kept apart
    ("Amount", "Amount (2)"; `RawTable.duplicates` lists them)."""
    names: list[str] = []
    for i, raw in enumerate(header):
        name = "" if raw is None or (isinstance(raw, float) and np.isnan(raw)) else str(raw)
        name = name.strip().strip(_BOM_CHARS).strip()
        names.append(name or f"column_{i + 1}")
    if not any(not n.startswith("column_") for n in names):
        raise InputFileError(path, refusals.NO_HEADER)
    return names


def _to_object_none(col: pd.Series) -> np.ndarray:
    """A parsed string column as an object array of ``str``/``None`` (empty -> None)."""
    empty = col.isna().to_numpy(dtype=bool) | (col == "").to_numpy(dtype=bool, na_value=False)
    arr = np.asarray(col.to_numpy(dtype=object), dtype=object)
    if empty.any():
        arr[empty] = None
    return arr


def _not_utf8(row: pd.Series) -> bool:
    """Whether a row holds U+FFFD: bytes a mostly UTF-8 file has in another encoding."""
    return any(isinstance(v, str) and "\ufffd" in v for v in row)


def _drop_trailing_blank(frame: pd.DataFrame) -> pd.DataFrame:
    if frame.empty:
        return frame
    filled = frame.notna().any(axis=1).to_numpy()
    nz = np.flatnonzero(filled)
    last = int(nz[-1]) + 1 if len(nz) else 0
    return frame.iloc[:last].reset_index(drop=True) if last < len(frame) else frame


def _long_fields(frame: pd.DataFrame, max_chars: int, first: int, bad: dict[int, str]) -> None:
    """Record rows holding a field longer than ``max_chars`` in ``bad``."""
    for name in frame.columns:
        col = frame[name]
        if col.dtype == object:
            col = col.astype("string[pyarrow]")
        too_long = (col.str.len() > max_chars).to_numpy(dtype=bool, na_value=False)
        for pos in np.flatnonzero(too_long):
            bad.setdefault(first + int(pos), Said(refusals.long_field_row(name, max_chars)))


def _parse_fast(payload: str | bytes, delimiter: str) -> pd.DataFrame:
    """pandas C engine; raises pd.errors.ParserError on ragged rows."""
    buf: io.StringIO | io.BytesIO
    buf = io.BytesIO(payload) if isinstance(payload, bytes) else io.StringIO(payload)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return pd.read_csv(
            buf,
            sep=delimiter,
            header=None,
            dtype=str,
            keep_default_na=False,
            na_filter=False,
            skip_blank_lines=False,
            quotechar='"',
            doublequote=True,
            engine="c",
            encoding="utf-8",
            encoding_errors="strict",
        )


def _parse_slow(text: str, delimiter: str, bad: dict[int, str]) -> tuple[list[str], list[list]]:
    """Python csv module: keeps rows with too many fields and records them in ``bad``."""
    csv.field_size_limit(current_limits().max_field_bytes)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=False)
    header = next(reader, [])
    width = len(header)
    rows: list[list] = []
    for i, row in enumerate(reader):
        n = len(row)
        if n > width:
            if any(v != "" for v in row[width:]):
                bad[i + 2] = wrong_field_count(n, width)
            row = row[:width]
        elif n < width:
            row = row + [""] * (width - n)
        rows.append(row)
    return header, rows


def _top_records(sample: str, delimiter: str) -> list[list[str]]:
    """The first records of a text sample (blank lines as empty records)."""
    rows: list[list[str]] = []
    reader = csv.reader(io.StringIO(sample, newline=""), delimiter=delimiter, strict=False)
    with contextlib.suppress(csv.Error):
        for row in itertools.islice(reader, HEADER_SCAN_ROWS):
            rows.append(row)
    return rows


def _skip_title_rows(
    text: str, delimiter: str, header_row: int | None, header_names: Sequence[str]
) -> tuple[str, int]:
    """(the text from the header record on, the number of records above the header)."""
    if header_row is not None:
        skip = header_row - 1
    else:
        skip = find_header_row(_top_records(text[:_SNIFF_CHARS], delimiter), header_names)
    if skip <= 0:
        return text, 0
    consumed = 0

    def lines() -> Iterator[str]:
        nonlocal consumed
        for line in io.StringIO(text, newline=""):
            consumed += len(line)
            yield line

    reader = csv.reader(lines(), delimiter=delimiter, strict=False)
    with contextlib.suppress(csv.Error):
        for _ in range(skip):
            next(reader, None)
    return text[consumed:], skip


def _read_text(
    path: Path,
    encoding: str | None,
    delimiter: str | None,
    max_field_chars: int,
    header_row: int | None = None,
    header_names: Sequence[str] = (),
) -> RawTable:
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise InputFileError(path, refusals.cannot_open(exc.strerror or exc)) from None
    if not data.strip(b" \t\r\n\x00" + codecs.BOM_UTF8):
        raise InputFileError(path, refusals.EMPTY)
    text, used, notes = _decode(path, data, encoding)
    if not text.strip():
        raise InputFileError(path, refusals.EMPTY)
    given, after_sep = sep_line(text)
    if delimiter is None:
        delim = detect_delimiter(text[:_SNIFF_CHARS])
    elif len(delimiter) != 1 or delimiter in '"\r\n':
        raise InputFileError(path, refusals.bad_delimiter(delimiter))
    else:
        delim = delimiter
    if given is not None:
        text = after_sep
    limits = current_limits()
    check_text_shape(path, text, delim, limits)
    text, skipped = _skip_title_rows(text, delim, header_row, header_names)
    if not text.strip():
        raise InputFileError(path, refusals.header_past_end(skipped + 1))

    bad: dict[int, str] = {}
    fast = not skipped and given is None
    if used in ("utf-8", "utf-8-sig") and b"\x00" not in data and fast:
        payload: str | bytes = data[3:] if data.startswith(codecs.BOM_UTF8) else data
    else:
        payload = text
    try:
        raw = _parse_fast(payload, delim)
        header: Sequence[object] = list(raw.iloc[0]) if len(raw) else []
        names, dupes = dedupe_names(_finish_names(path, header))
        body = raw.iloc[1:].reset_index(drop=True)
        body.columns = pd.Index(names)
        if len(text) > max_field_chars:
            _long_fields(body, max_field_chars, 2, bad)
        frame = pd.DataFrame({n: _to_object_none(body[n]) for n in names}, dtype=object)
    except (pd.errors.ParserError, ValueError, csv.Error):
        bad = {}
        try:
            head, rows = _parse_slow(text, delim, bad)
        except csv.Error as exc:
            raise csv_error(path, exc, limits) from None
        names, dupes = dedupe_names(_finish_names(path, head))
        frame = pd.DataFrame(rows, columns=names, dtype=object)
        frame = frame.where(frame != "", None).astype(object) if len(frame) else frame
        if len(text) > max_field_chars:
            _long_fields(frame, max_field_chars, 2, bad)
    refuse_long_fields(path, frame, len(text), limits)
    frame = excel_text_formulas(_drop_trailing_blank(frame))
    if used == "utf-8" and "\ufffd" in text:
        for pos in np.flatnonzero(frame.apply(_not_utf8, axis=1).to_numpy(dtype=bool)):
            bad.setdefault(2 + int(pos), Said(NOT_UTF8_ROW))
    shifted = {line + skipped: reason for line, reason in sorted(bad.items())}
    return RawTable(path, frame, used, delim, None, 2 + skipped, shifted, notes, dupes)


# --------------------------------------------------------------------------- xlsx


def _read_xlsx(
    path: Path,
    sheet: str | None,
    max_field_chars: int,
    header_row: int | None = None,
    header_names: Sequence[str] = (),
) -> RawTable:
    read = read_xlsx_sparse(path, sheet, current_limits(), header_row, header_names)
    header = list(read.header)
    names, dupes = dedupe_names(_finish_names(path, header))
    frame = pd.DataFrame(read.rows, columns=names, dtype=object)
    if frame.empty:
        frame = pd.DataFrame({n: pd.Series([], dtype=object) for n in names})
    frame = _drop_trailing_blank(frame)
    bad = dict(read.bad_rows)
    first = read.header_row + 1
    _long_fields(frame, max_field_chars, first, bad)
    sorted_bad = dict(sorted(bad.items()))
    return RawTable(path, frame, None, None, read.sheet, first, sorted_bad, (), dupes)


# --------------------------------------------------------------------------- entry point


def read_raw(
    path: Path,
    *,
    encoding: str | None = None,
    delimiter: str | None = None,
    sheet: str | None = None,
    max_field_chars: int = 100_000,
    header_row: int | None = None,
    header_names: Sequence[str] = (),
) -> RawTable:
    """Read a CSV/TSV/TXT or XLSX/XLSM file into a :class:`RawTable` of strings.

    ``encoding`` and ``delimiter`` are detected when not given (text files only); ``sheet``
    defaults to the first sheet (XLSX only). The header is row ``header_row`` (1-based) when
    given, else found by `crmroi.ingest.headers.find_header_row` with the names a mapping
    looks for (``header_names``): title rows above it are skipped. Raises only
    :class:`InputFileError`.
    """
    if header_row is not None and header_row < 1:
        raise InputFileError(path, refusals.header_row(header_row))
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in TEXT_EXTENSIONS and suffix not in XLSX_EXTENSIONS:
        known = Items(sorted(TEXT_EXTENSIONS | XLSX_EXTENSIONS))
        raise InputFileError(path, refusals.unknown_extension(path.suffix, known))
    if not path.is_file():
        raise InputFileError(path, refusals.NO_SUCH_FILE)
    try:
        if suffix in XLSX_EXTENSIONS:
            return _read_xlsx(path, sheet, max_field_chars, header_row, header_names)
        return _read_text(path, encoding, delimiter, max_field_chars, header_row, header_names)
    except InputFileError:
        raise
    except MemoryError:
        raise InputFileError(path, refusals.TOO_LARGE) from None
    except Exception as exc:  # contract: a bad file never raises anything else
        raise InputFileError(path, refusals.unreadable(exc)) from None
