"""Read a large text export block by block: detection on a sample, then every record parsed.

`open_stream` detects the encoding, delimiter and header row on the first `SAMPLE_BYTES` of
the file (as `crmroi.ingest.reading` does on the whole file), then `StreamedText.blocks`
yields the records as `RawTable` pieces of about `block_bytes` each, cut at record ends
(a line break outside quotes). Row numbers stay the file's. Every piece is parsed exactly as
`read_raw` parses a whole file (the C parser, the csv module for ragged rows).

A file this reader cannot take without reading it whole raises `NotStreamable` (UTF-16, NUL
characters, a byte that does not decode as the encoding the sample showed): the caller reads
it the ordinary way instead, nothing having been written.
"""

from __future__ import annotations

import codecs
import contextlib
import contextvars
import csv
import io
import queue
import threading
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv

from crmroi.errors import InputFileError
from crmroi.ingest import refusals
from crmroi.ingest.csv_bounded import csv_error, excel_text_formulas
from crmroi.ingest.headers import dedupe_names
from crmroi.ingest.reading import (
    RawTable,
    _decode,
    _finish_names,
    _parse_fast,
    _parse_slow,
    _skip_title_rows,
    _to_object_none,
    detect_delimiter,
    sep_line,
)
from crmroi.limits import current_limits, refuse_many_cells, refuse_wide_header
from crmroi.messages import Said

_STR = pd.StringDtype("pyarrow")
SAMPLE_BYTES = 1 << 20
"""Bytes of the file's start that encoding, delimiter and header detection look at."""
BLOCK_BYTES = 16 << 20
"""Bytes parsed at a time (about 120,000 rows of a typical export; smaller blocks cost
more per row in fixed costs of mapping, larger ones no less: `benchmarks/bench_import.py`)."""
_TAIL_BYTES = 1 << 20  # a remainder this small joins the block before it (footers stay whole)


T = TypeVar("T")


class NotStreamable(Exception):
    """The file must be read whole (see the module docstring); not a user error."""


@dataclass
class StreamedText:
    """A text file opened for block reading: what detection found, and where data starts."""

    path: Path
    encoding: str
    delimiter: str
    names: list[str]
    duplicates: dict[str, list[int]]
    warnings: tuple[str, ...]
    skipped: int  # title records above the header
    header_bytes: bytes  # the header record as the file holds it
    data_start: int  # byte offset of the first data record
    block_bytes: int = BLOCK_BYTES

    def blocks(self) -> Iterator[tuple[RawTable, bool]]:
        """(piece of the file, whether it is the last piece)."""
        limits = current_limits()
        width = len(self.names)
        first_line = 2 + self.skipped
        size = self.path.stat().st_size
        with self.path.open("rb") as handle:
            handle.seek(self.data_start)
            for block, last in _record_blocks(handle, size, self.block_bytes):
                raw = self._parse(block, first_line, last)
                rows = len(raw.frame)
                refuse_many_cells(self.path, first_line - 2 - self.skipped + rows, width, limits)
                if last:
                    raw = _without_trailing_blank(raw)
                yield raw, last
                first_line += rows

    def _parse(self, block: bytes, first_line: int, last: bool) -> RawTable:
        data = self.header_bytes + block
        utf8 = self.encoding in ("utf-8", "utf-8-sig")
        try:
            text = data.decode(self.encoding)
        except UnicodeDecodeError:
            raise NotStreamable(f"a block does not decode as {self.encoding}") from None
        if "\x00" in text:
            raise NotStreamable("NUL characters")
        payload: str | bytes = data if utf8 else text
        bad: dict[int, str] = {}
        limits = current_limits()
        frame = self._parse_arrow(data if utf8 else text.encode("utf-8"))
        if frame is not None:
            long_rows(self.path, frame, first_line, bad, len(text))
            return self._raw(frame, first_line, bad)
        try:
            parsed = _parse_fast(payload, self.delimiter)
            body = parsed.iloc[1:].reset_index(drop=True)
            if len(body.columns) != len(self.names):
                raise ValueError("the block's width differs from the header's")
            body.columns = pd.Index(self.names)
            frame = pd.DataFrame({n: _to_object_none(body[n]) for n in self.names}, dtype=object)
        except (pd.errors.ParserError, ValueError, csv.Error):
            try:
                _, rows = _parse_slow(text, self.delimiter, bad)
            except csv.Error as exc:
                raise csv_error(self.path, exc, limits) from None
            bad = {line - 2 + first_line: reason for line, reason in bad.items()}
            frame = pd.DataFrame(rows, columns=self.names, dtype=object)
            frame = frame.where(frame != "", None).astype(object) if len(frame) else frame
        long_rows(self.path, frame, first_line, bad, len(text))
        return self._raw(frame, first_line, bad)

    def _parse_arrow(self, data: bytes) -> pd.DataFrame | None:
        """Arrow's CSV reader: Arrow strings, empty cells missing; None for a block it
        cannot read as a rectangle (blank lines, ragged rows), which pandas then reads."""
        width = len(self.names)
        try:
            table = pacsv.read_csv(
                io.BytesIO(data),
                read_options=pacsv.ReadOptions(
                    skip_rows=1,
                    column_names=[f"c{i}" for i in range(width)],
                    block_size=len(data) + 1,
                ),
                parse_options=pacsv.ParseOptions(
                    delimiter=self.delimiter,
                    quote_char='"',
                    double_quote=True,
                    escape_char=False,
                    newlines_in_values=True,
                    ignore_empty_lines=False,
                ),
                convert_options=pacsv.ConvertOptions(
                    column_types={f"c{i}": pa.string() for i in range(width)},
                    null_values=[""],
                    strings_can_be_null=True,
                    quoted_strings_can_be_null=True,
                ),
            )
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
            return None
        columns = {
            name: pd.Series(pd.arrays.ArrowStringArray(table.column(i)), dtype=_STR)
            for i, name in enumerate(self.names)
        }
        return pd.DataFrame(columns)

    def _raw(self, frame: pd.DataFrame, first_line: int, bad: dict[int, str]) -> RawTable:
        notes = self.warnings if first_line == 2 + self.skipped else ()
        return RawTable(
            self.path,
            excel_text_formulas(frame),
            self.encoding,
            self.delimiter,
            None,
            first_line,
            dict(sorted(bad.items())),
            notes,
            self.duplicates,
        )


def long_rows(
    path: Path, frame: pd.DataFrame, first_line: int, bad: dict[int, str], chars: int
) -> None:
    """Refuse a field over ``max_field_bytes``; note rows with one over 100,000 characters.

    The same rules as `read_raw`, with Arrow's string lengths instead of a Python loop."""
    limit = current_limits().max_field_bytes
    keep_below = 100_000
    if chars <= min(limit, keep_below):
        return
    for position, name in enumerate(frame.columns):
        cells = pa.array(frame[name], pa.string(), from_pandas=True)
        widest = pc.max(pc.binary_length(cells)).as_py()  # bytes: no decoding
        if widest is None or widest <= min(limit, keep_below):  # characters <= bytes
            continue
        lengths = pc.utf8_length(cells)
        longest = pc.max(lengths).as_py()
        if longest is None or longest <= min(limit, keep_below):
            continue
        values = lengths.to_numpy(zero_copy_only=False)
        if longest > limit:
            row = int(np.nanargmax(values)) + first_line
            raise InputFileError(path, refusals.long_field(row, name or position + 1, limit))
        for pos in np.flatnonzero(np.nan_to_num(values, nan=0) > keep_below):
            bad.setdefault(first_line + int(pos), Said(refusals.long_field_row(name, keep_below)))


def _without_trailing_blank(raw: RawTable) -> RawTable:
    frame = raw.frame
    if frame.empty:
        return raw
    filled = np.flatnonzero(frame.notna().any(axis=1).to_numpy())
    last = int(filled[-1]) + 1 if len(filled) else 0
    if last == len(frame):
        return raw
    return RawTable(
        raw.path,
        frame.iloc[:last].reset_index(drop=True),
        raw.encoding,
        raw.delimiter,
        raw.sheet,
        raw.first_data_line,
        raw.bad_rows,
        raw.warnings,
        raw.duplicates,
    )


def _record_blocks(
    handle: io.BufferedReader, size: int, block: int
) -> Iterator[tuple[bytes, bool]]:
    """Blocks of whole records: each ends at a line break with an even number of quotes
    before it (a quote doubled inside a quoted field counts twice)."""
    carry = b""
    while True:
        chunk = handle.read(block)
        if size - handle.tell() < _TAIL_BYTES:
            chunk += handle.read()
        data = carry + chunk
        at_end = handle.tell() >= size
        if at_end:
            if data.strip(b"\r\n"):
                yield data, True
            return
        cut = _record_end(data)
        if cut <= 0:  # one record longer than the block: read on
            carry = data
            continue
        carry = data[cut:]
        yield data[:cut], False


def _record_end(data: bytes) -> int:
    """Position just after the last line break outside quotes in ``data`` (0 if none)."""
    quotes_before = data.count(b'"')
    end = len(data)
    while True:
        nl = data.rfind(b"\n", 0, end)
        if nl < 0:
            return 0
        quotes_before -= data.count(b'"', nl + 1, end)
        if quotes_before % 2 == 0:
            return nl + 1
        end = nl


def open_stream(
    path: Path,
    *,
    encoding: str | None = None,
    delimiter: str | None = None,
    header_row: int | None = None,
    header_names: Sequence[str] = (),
    block_bytes: int = BLOCK_BYTES,
) -> StreamedText:
    """Detect the file's encoding, delimiter and header on its first bytes.

    Raises `InputFileError` for what `read_raw` refuses, `NotStreamable` for a file to read
    whole."""
    if header_row is not None and header_row < 1:
        raise InputFileError(path, refusals.header_row(header_row))
    try:
        with path.open("rb") as handle:
            sample = handle.read(SAMPLE_BYTES)
    except OSError as exc:
        raise InputFileError(path, refusals.cannot_open(exc.strerror or exc)) from None
    if b"\x00" in sample or sample.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        raise NotStreamable("NUL characters or UTF-16")
    cut = sample.rfind(b"\n") + 1
    if cut <= 0:
        raise NotStreamable("no line break in the sample")
    sample = sample[:cut]
    text, used, notes = _decode(path, sample, encoding)
    if "\n".encode(used) != b"\n" or '"'.encode(used) != b'"' or used.startswith("utf-16"):
        raise NotStreamable(f"{used} is not ASCII-compatible")
    if not text.strip():
        raise NotStreamable("blank sample")
    if sep_line(text)[0] is not None:
        raise NotStreamable("a sep= line")
    if "\ufffd" in text:
        raise NotStreamable("bytes that are not UTF-8 in a UTF-8 file")
    if delimiter is None:
        delim = detect_delimiter(text[:64_000])
    elif len(delimiter) != 1 or delimiter in '"\r\n':
        raise InputFileError(path, refusals.bad_delimiter(delimiter))
    else:
        delim = delimiter
    rest, skipped = _skip_title_rows(text, delim, header_row, header_names)
    if not rest.strip():
        raise NotStreamable("no header in the sample")
    header_text = _first_record(rest, delim)
    header_start = len(sample) - len(rest.encode(used))
    header_bytes = sample[header_start : header_start + len(header_text.encode(used))]
    record = next(csv.reader(io.StringIO(header_text, newline=""), delimiter=delim), [])
    refuse_wide_header(path, len(record), current_limits())
    names, dupes = dedupe_names(_finish_names(path, record))
    return StreamedText(
        path,
        used,
        delim,
        names,
        dupes,
        notes,
        skipped,
        header_bytes,
        header_start + len(header_bytes),
        block_bytes,
    )


def _first_record(text: str, delimiter: str) -> str:
    """The text of the first CSV record of ``text``, with its line break."""
    consumed = 0

    def lines() -> Iterator[str]:
        nonlocal consumed
        for line in io.StringIO(text, newline=""):
            consumed += len(line)
            yield line

    with contextlib.suppress(csv.Error, StopIteration):
        next(csv.reader(lines(), delimiter=delimiter, strict=False))
    if consumed == 0:
        raise NotStreamable("no header record")
    return text[:consumed]


_DONE = object()


def read_ahead(items: Iterator[T]) -> Iterator[T]:
    """`items`, the next one produced in a thread while the caller works on the current
    one (reading a file and Arrow's CSV parser release the GIL, so on two cores the next
    block is read while this one is mapped). The thread's errors are raised here; leaving
    early stops the thread and closes `items`."""
    handoff: queue.Queue[tuple[object, BaseException | None]] = queue.Queue(maxsize=1)
    stop = threading.Event()

    def put(item: object, error: BaseException | None = None) -> bool:
        while not stop.is_set():
            try:
                handoff.put((item, error), timeout=0.05)
                return True
            except queue.Full:
                continue
        return False

    def produce() -> None:
        try:
            for item in items:
                if not put(item):
                    return
            put(_DONE)
        except BaseException as exc:  # handed to the caller's thread
            put(None, exc)
        finally:
            close = getattr(items, "close", None)
            if close is not None:
                close()

    worker = threading.Thread(
        target=contextvars.copy_context().run, args=(produce,), name="crmroi-read-ahead"
    )
    worker.daemon = True
    worker.start()
    try:
        while True:
            item, error = handoff.get()
            if error is not None:
                raise error
            if item is _DONE:
                return
            yield item  # type: ignore[misc]
    finally:
        stop.set()
        worker.join()
