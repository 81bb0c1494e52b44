"""Turn one raw export (strings) into rows of a canonical table, refusing bad rows.

Pure: takes a `RawTable` and a `TableMapping`, returns an Arrow table in the
canonical schema plus the rejected rows with file, row, column and reason. A row
with any bad cell is refused whole, so no half-understood row reaches the store.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
import pyarrow as pa

from crmroi.ingest import import_notes, reasons
from crmroi.ingest.columns import (
    MAX_VALUES_SHOWN,
    ColumnNotes,
    FileColumns,
    Refuse,
    ValueCount,
    has_source,
    mostly_distinct,
    source_text,
    stripped,
)
from crmroi.ingest.currency import (
    FxRates,
    apply_cell_currencies,
    cell_currencies,
    stated_codes,
)
from crmroi.ingest.guesses import (
    SPREADSHEET_ID,
    Guesses,
    content_rows,
    leave_out_totals,
    settle_numbers,
    spreadsheet_ids,
)
from crmroi.ingest.mapping import TableMapping
from crmroi.ingest.reading import RawTable
from crmroi.ingest.rejects import Reject, reason_text
from crmroi.ingest.values import parse_booleans, parse_dates, parse_numbers
from crmroi.messages import Items, Message
from crmroi.store.schema import ADDED_COLUMNS, ID_COLUMN, TABLES, Column, Table

if TYPE_CHECKING:
    from crmroi.ingest.reject_spool import RejectSpool
    from crmroi.ingest.staging import StagedRows

ORDERS = ("DMY", "MDY", "YMD")
STR = pd.StringDtype("pyarrow")  # Arrow-backed strings: vectorised str methods, NA for missing


@dataclass
class MappedTable:
    """The canonical rows of one file, what was refused, and what was detected."""

    entity: str
    label: str
    table: pa.Table
    rejects: list[Reject]
    rows_in: int
    detected: dict[str, str] = field(default_factory=dict)
    values: list[ValueCount] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    names: dict[str, pd.Series] = field(default_factory=dict)  # unresolved link names, by row
    record_names: pd.Series | None = None  # each loaded row's own name (to link others by)
    links_by_name: dict[str, tuple[int, int, int]] = field(default_factory=dict)
    """link column -> rows (resolved, unmatched, ambiguous) by name"""
    given: frozenset[str] | None = None  # a partial file: the only columns it updates
    lines: Sequence[int] = field(default_factory=list)  # the file row of each loaded row
    file: str = ""
    hashed: bool = False  # keyed by a hash of the row's values (no id column)
    refused_keys: list[tuple[str, int]] = field(default_factory=list)
    """(id, file row) of refused rows that have an id (duplicates across chunks)"""
    staged: StagedRows | None = None
    """a streamed file: its loaded rows live in the store (`table` is then empty)"""
    spool: RejectSpool | None = None
    """a large file's refused rows kept in the store (`rejects` then holds the first)"""


@dataclass
class _Cell:
    """One canonical column while it is being built."""

    values: pd.Series
    source: str  # the source column name shown in errors
    signs: pd.Series | None = None  # money: the currency sign or code written in each cell


def map_table(
    raw: RawTable,
    mapping: TableMapping,
    *,
    source_system: str,
    batch_id: str,
    rates: FxRates,
    columns_optional: bool = False,
    footer: bool = True,
    dedupe: bool = True,
    max_values: int = MAX_VALUES_SHOWN,
) -> MappedTable:
    """Map, parse and validate `raw` into `mapping.entity`'s canonical schema.

    `columns_optional`: a single mapped source column missing from the file is
    ignored (presets) instead of being refused as a probable typo. A chunk of a
    streamed file is mapped with `footer` False (unless it is the last one: a report
    footer ends the file) and `dedupe` False (duplicates are found over the whole file)."""
    table = TABLES[mapping.entity]
    keep_rows = content_rows(raw.frame, 5 if footer else 0)
    totals = leave_out_totals(raw, keep_rows) if footer else None
    frame = raw.frame[keep_rows].reset_index(drop=True)
    n = len(frame)
    all_rows = np.arange(len(raw.frame)) + raw.first_data_line
    rows = pd.Series(all_rows[keep_rows], dtype="int64")
    header = {str(c).strip().casefold(): str(c) for c in frame.columns}
    problems: dict[int, list[Reject]] = {}
    detected: dict[str, str] = {}

    def refuse(
        mask: pd.Series, column: str, reason: str | Message, values: pd.Series | None
    ) -> None:
        for i in np.flatnonzero(mask.to_numpy(dtype=bool)):
            value = None if values is None else values.iloc[i]
            shown = "" if value is None or value is pd.NA else str(value)
            why = reason_text(reason, shown)
            problems.setdefault(int(i), []).append(
                Reject(raw.path.name, int(rows.iloc[i]), column, why, shown[:200])
            )

    position = {int(line): i for i, line in enumerate(rows)} if raw.bad_rows else {}
    for line, reason in raw.bad_rows.items():
        if line in position:
            problems.setdefault(position[line], []).append(Reject(raw.path.name, line, "", reason))

    columns: dict[str, _Cell] = {}
    wanted = [*table.columns]
    if table.has_currency:
        wanted.append(table.column("currency"))
    extra_id = "source_id" in mapping.columns or "source_id" in mapping.constants
    if extra_id:
        wanted.append(table.column("source_id"))
    file = FileColumns(raw.path.name, frame, header, columns_optional)
    notes = ColumnNotes(max_values=max_values)
    if totals is not None:
        notes.warnings.append(totals)
    id_name = ID_COLUMN.get(table.name)
    hashed = (
        mapping.missing_id == "row_hash"
        and id_name is not None
        and not extra_id
        and not has_source(table.column(id_name), mapping, file)
    )
    given = {c.name for c in wanted if has_source(c, mapping, file)}
    if mapping.partial and "amount" in given:
        given |= {"currency", "amount_original"}
    texts: dict[str, tuple[pd.Series, str] | None] = {}
    for col in wanted:
        skip = (hashed and col.name == id_name) or (mapping.partial and col.name not in given)
        texts[col.name] = None if skip else _text(col, mapping, file, refuse, notes)
    dated = [t[0] for c in wanted if c.kind in ("timestamp", "date") and (t := texts[c.name])]
    guesses = Guesses(order=mapping.dates.order, dated=dated)
    for col in wanted:
        text = texts[col.name]
        if text is None:
            columns[col.name] = _Cell(_empty(col, n), col.name)
            continue
        raw_values, source = text
        cell = _parse(col, raw_values, source, mapping, refuse, detected, guesses)
        columns[col.name] = cell
    columns.update(settle_numbers(wanted, texts, mapping, guesses, detected, _parse))
    notes.warnings.extend(guesses.warnings(raw.path.name))
    if hashed and id_name is not None:
        columns[id_name] = _Cell(row_keys(table, columns, id_name), id_name)
        spec = mapping.columns.get(id_name)
        looked = Items(spec.alternatives) if spec is not None else id_name
        notes.warnings.append(import_notes.hashed_ids(raw.path.name, mapping.entity, looked))

    for col in table.columns:
        if col.required and (not mapping.partial or col.name in given):
            missing = columns[col.name].values.isna()
            refuse(missing, columns[col.name].source, reasons.empty(col.name), None)

    key = _source_ids(table, columns, extra_id)
    key_given = key.notna()
    refuse(~key_given, ID_COLUMN.get(table.name, "key"), reasons.NO_ID, None)
    if dedupe:
        _refuse_duplicates(key, raw, rows, problems)

    if table.has_currency:
        _convert_currency(table, columns, rates, refuse)

    bad = np.zeros(n, dtype=bool)
    bad[list(problems)] = True
    keep = ~bad
    arrays: dict[str, pa.Array] = {}
    kept = int(keep.sum())
    for col in table.all_columns:
        if col.name in ("source_system", "batch_id"):
            constant = source_system if col.name == "source_system" else batch_id
            arrays[col.name] = pa.repeat(pa.scalar(constant, pa.string()), kept)
            continue
        values = key if col.name == "source_id" else columns[col.name].values
        arrays[col.name] = _to_arrow(values[keep], col)
    result = pa.table(arrays, schema=table.arrow_schema())
    rejects = [r for i in sorted(problems) for r in problems[i]]
    refused = bad & key.notna().to_numpy(dtype=bool)
    refused_keys = [(str(key.iloc[i]), int(rows.iloc[i])) for i in np.flatnonzero(refused)]
    return MappedTable(
        mapping.entity,
        mapping.label,
        result,
        rejects,
        n,
        detected,
        notes.values,
        notes.warnings,
        {name: names[keep].reset_index(drop=True) for name, names in notes.names.items()},
        _record_names(mapping, file, columns, keep),
        given=frozenset(given) if mapping.partial else None,
        lines=rows[keep].tolist(),
        file=raw.path.name,
        hashed=hashed,
        refused_keys=refused_keys,
    )


def _record_names(
    mapping: TableMapping, file: FileColumns, columns: dict[str, _Cell], keep: np.ndarray
) -> pd.Series | None:
    """The name or title of each loaded row: the mapping's `names` columns, else `name`."""
    present = [s for s in (file.find(a) for a in mapping.names) if s is not None]
    if present:
        names = file.frame[present[0]].astype(STR)
        for other in present[1:]:
            names = names.fillna(file.frame[other].astype(STR))
    elif "name" in columns:
        names = columns["name"].values.astype(STR)
    else:
        return None
    return names[keep].reset_index(drop=True)


def _text(
    col: Column, mapping: TableMapping, file: FileColumns, refuse: Refuse, notes: ColumnNotes
) -> tuple[pd.Series, str] | None:
    return source_text(col, mapping, file, lambda v: mapping_text(v, mapping), refuse, notes)


def row_keys(table: Table, columns: dict[str, _Cell], id_name: str) -> pd.Series:
    """A stable key for rows without an id: a hash of the row's mapped values, then the
    occurrence number among rows with the same values ("row-<16 hex>-<n>"). Columns
    added to the schema later (`ADDED_COLUMNS`) are left out, so keys stay the same."""
    later = ADDED_COLUMNS.get(table.name, ())
    names = [
        c.name
        for c in table.columns
        if c.name != id_name and c.name in columns and c.name not in later
    ]
    text = pd.Series([""] * len(columns[id_name].values), dtype=object)
    for name in names:
        values = columns[name].values
        shown = values.astype(object).where(values.notna(), "")
        text = text + "\x1f" + shown.astype(str)
    digests = text.map(lambda t: hashlib.sha256(t.encode("utf-8")).hexdigest()[:16])
    occurrence = digests.groupby(digests).cumcount() + 1
    return ("row-" + digests + "-" + occurrence.astype(str)).astype(STR)


def value_problem(col: Column, value: str, mapping: TableMapping) -> str | None:
    """Why `value` would be refused as a value of `col` under `mapping`'s number and date
    settings, or None when it would be read; for checking a constant or a value map's
    target before an import (the import wizard's form), with the import's own parser."""
    problems: list[str] = []

    def refuse(
        mask: pd.Series, column: str, reason: str | Message, values: pd.Series | None
    ) -> None:
        if bool(mask.to_numpy(dtype=bool).any()):
            problems.append(reason_text(reason, value.strip()))

    _parse(col, pd.Series([value], dtype=STR), col.name, mapping, refuse, {})
    return problems[0] if problems else None


EMPTY_DTYPES = {
    "money": "float64",
    "number": "float64",
    "integer": "float64",
    "timestamp": "datetime64[us]",
    "date": "datetime64[us]",
    "boolean": "boolean",
}


def _empty(col: Column, n: int) -> pd.Series:
    """An all-missing column of the right dtype, for a column the file does not have."""
    dtype = EMPTY_DTYPES.get(col.kind, STR)
    if dtype is STR:
        return pd.Series(pd.arrays.ArrowStringArray(pa.nulls(n, pa.string())), dtype=STR)
    if dtype == "float64":
        return pd.Series(np.full(n, np.nan))
    if dtype == "datetime64[us]":
        return pd.Series(np.full(n, np.datetime64("NaT"), dtype="datetime64[us]"))
    return pd.Series([None] * n, dtype=dtype)


def mapping_text(value: object, mapping: TableMapping) -> str | None:
    """A mapping's constant or value-map target as the text the column parser reads.

    A YAML number (`amount: 1500.5`) is written with the file's decimal separator and
    without exponent or grouping, so a mapping with `numbers: {decimal: ","}` reads it
    as the same number, not as 15005 or a refused row."""
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        numbers = mapping.numbers  # the separator parse_numbers will read with
        decimal = numbers.decimal or ("." if numbers.thousands in (None, ",") else ",")
        return np.format_float_positional(value, trim="-").replace(".", decimal)
    return str(value)


def _parse(
    col: Column,
    values: pd.Series,
    source: str,
    mapping: TableMapping,
    refuse: Refuse,
    detected: dict[str, str],
    guesses: Guesses | None = None,
) -> _Cell:
    """Parse strings into the column's kind, refusing unreadable cells.

    A column with few distinct cells (numbers, dates, booleans, choices) is parsed once per
    distinct cell, each weighing as many rows as hold it in what is detected (a decimal
    comma, a date order), then spread back to its rows: the same values, refusals and notes
    as parsing every row."""
    text = values.astype(STR)
    guesses = guesses or Guesses()
    if col.kind == "id" or (col.kind == "text" and not col.choices):
        return _parse_cells(col, stripped(text), source, mapping, refuse, detected, None, guesses)
    if mostly_distinct(text):  # e.g. timestamps: counting them first is wasted work
        return _parse_cells(col, stripped(text), source, mapping, refuse, detected, None, guesses)
    codes, uniques = pd.factorize(text, use_na_sentinel=True)
    if len(uniques) * 2 > len(text):
        return _parse_cells(col, stripped(text), source, mapping, refuse, detected, None, guesses)
    counts = np.bincount(codes[codes >= 0], minlength=len(uniques))

    def rows(distinct: pd.Series) -> pd.Series:
        if distinct.dtype == bool:
            return pd.Series(np.append(distinct.to_numpy(), False)[codes], index=text.index)
        return pd.Series(distinct.array.take(codes, allow_fill=True), index=text.index)

    def refuse_distinct(
        mask: pd.Series, column: str, reason: str | Message, shown: pd.Series | None
    ) -> None:
        flags = pd.Series(mask.to_numpy(dtype=bool))
        refuse(rows(flags), column, reason, None if shown is None else rows(shown))

    distinct = stripped(pd.Series(uniques, dtype=STR))
    cell = _parse_cells(col, distinct, source, mapping, refuse_distinct, detected, counts, guesses)
    signs = None if cell.signs is None else rows(cell.signs)
    return _Cell(rows(cell.values), source, signs)


def _parse_cells(
    col: Column,
    text: pd.Series,
    source: str,
    mapping: TableMapping,
    refuse: Refuse,
    detected: dict[str, str],
    counts: np.ndarray | None,
    guesses: Guesses,
) -> _Cell:
    """`_parse` of stripped cells, each standing for `counts` rows (one if None); what is
    read by a convention only is noted in `guesses`."""
    spec = mapping.columns.get(col.name)
    if col.kind == "id":
        refuse(spreadsheet_ids(text), source, SPREADSHEET_ID, text)
    if col.kind in ("id", "text"):
        if col.choices:
            norm = text.str.casefold().str.replace(" ", "_", regex=False)
            norm = norm.str.replace("-", "_", regex=False)
            wrong = norm.notna() & ~norm.isin(col.choices).fillna(False).astype(bool)
            for bad in pd.unique(norm[wrong]):
                refuse(
                    wrong & (norm == bad).fillna(False),
                    source,
                    reasons.not_a_choice(col, bad),
                    text,
                )
            text = norm
        return _Cell(text, source)
    if col.kind in ("money", "number", "integer"):
        parsed = parse_numbers(
            text,
            decimal=mapping.numbers.decimal,
            thousands=mapping.numbers.thousands,
            counts=counts,
            money=col.kind == "money",
        )
        refuse(parsed.bad, source, reasons.NOT_A_NUMBER, text)
        guesses.note("numbers", source, parsed, text, counts)
        numbers = parsed.values.astype("float64")
        if spec is not None and spec.multiply is not None:
            numbers = numbers * spec.multiply
        if col.kind == "integer":
            fractional = numbers.notna() & (numbers != numbers.round())
            refuse(fractional, source, reasons.NOT_WHOLE, text)
        detected[col.name] = parsed.detail
        signs = cell_currencies(text) if col.kind == "money" else None
        has_signs = signs is not None and bool(signs.notna().any())
        return _Cell(numbers, source, signs if has_signs else None)
    if col.kind in ("timestamp", "date"):
        fmt = spec.format if spec is not None else None
        order = fmt if fmt in ORDERS else guesses.order
        strftime = fmt if fmt and fmt not in ORDERS else mapping.dates.format
        parsed = parse_dates(text, fmt=strftime, order=order, counts=counts)  # type: ignore[arg-type]
        if order is None and parsed.order_assumed and (shown := guesses.shown_order()):
            # nothing in the column told the order: the file's other date columns may
            parsed = parse_dates(text, fmt=strftime, order=shown, counts=counts)
        refuse(parsed.bad, source, reasons.NOT_A_DATE, text)
        guesses.note("dates", source, parsed, text, counts)
        detected[col.name] = parsed.detail
        return _Cell(parsed.values, source)
    if col.kind == "boolean":
        parsed = parse_booleans(text, counts=counts)
        refuse(parsed.bad, source, reasons.NOT_BOOLEAN, text)
        return _Cell(parsed.values, source)
    raise AssertionError(f"unhandled kind {col.kind}")


def _source_ids(table: Table, columns: dict[str, _Cell], explicit: bool) -> pd.Series:
    """The row's id in its source: the id column, else the natural key joined by '|'."""
    if explicit:
        return columns["source_id"].values.astype(STR)
    id_column = ID_COLUMN.get(table.name)
    if id_column is not None and columns[id_column].values.notna().any():
        return columns[id_column].values.astype(STR)
    parts = []
    for name in table.key:
        values = columns[name].values
        if pd.api.types.is_datetime64_any_dtype(values):
            text = values.dt.strftime("%Y-%m-%d").astype(STR)
        else:
            text = values.astype(STR)
        parts.append(text.fillna("").astype(STR))
    joined = parts[0].astype(str)
    for part in parts[1:]:
        joined = joined + "|" + part.astype(str)
    first = columns[table.key[0]].values
    return joined.where(first.notna()).astype(STR)


def _refuse_duplicates(
    key: pd.Series, raw: RawTable, rows: pd.Series, problems: dict[int, list[Reject]]
) -> None:
    """Refuse all but the last row with the same id (exports repeat edited rows)."""
    dup = key.notna() & key.duplicated(keep="last")
    if not dup.any():
        return
    last_row = pd.Series(rows.to_numpy(), index=key.to_numpy()).groupby(level=0).last()
    for i in np.flatnonzero(dup.to_numpy()):
        kept = int(last_row[key.iloc[i]])
        problems.setdefault(int(i), []).append(
            Reject(
                raw.path.name,
                int(rows.iloc[i]),
                "",
                reasons.duplicate_id(key.iloc[i], kept),
                str(key.iloc[i]),
            )
        )


def _convert_currency(
    table: Table, columns: dict[str, _Cell], rates: FxRates, refuse: Refuse
) -> None:
    """Convert money columns into the base currency, keeping the original amount."""
    currency = stated_codes(columns["currency"].values, rates.base_currency)
    signs = {n: s for n in table.money_columns if (s := columns[n].signs) is not None}
    if signs:  # "EUR 1,000.00", "1 000 руб.": the cell states the row's currency
        cells = apply_cell_currencies(currency, signs, rates.base_currency)
        _refuse_messages(cells.problem, columns[next(iter(signs))].source, refuse)
        currency = cells.currency
        for name, factor in cells.factors.items():
            cell = columns[name]
            columns[name] = _Cell(cell.values * factor, cell.source)
    currency = currency.astype(STR).str.upper().fillna(rates.base_currency)
    columns["currency"] = _Cell(currency, columns["currency"].source)
    when_name = "closed_at" if table.name == "deals" else table.time_column
    when = columns[when_name].values if when_name else pd.Series(pd.NaT, index=currency.index)
    if table.name == "deals":
        when = when.fillna(columns["created_at"].values)
    rate = rates.rates_for(currency, pd.Series(when))
    missing = rate.isna()
    refuse(missing, columns["currency"].source, reasons.no_fx_rate(rates.base_currency), currency)
    if "amount" in columns:
        columns["amount_original"] = _Cell(
            columns["amount"].values.copy(), columns["amount"].source
        )
    for name in table.money_columns:
        cell = columns[name]
        columns[name] = _Cell(cell.values * rate.fillna(1.0), cell.source)


def _to_arrow(values: pd.Series, col: Column) -> pa.Array:
    """A pandas column as an Arrow array of the column's canonical type."""
    kind = col.kind
    if kind in ("id", "text"):
        return pa.array(values.astype(STR), pa.string())
    if kind in ("money", "number"):
        return pa.array(
            values.astype("float64").to_numpy(), pa.float64(), mask=values.isna().to_numpy()
        )
    if kind == "integer":
        mask = values.isna().to_numpy()
        return pa.array(values.fillna(0).astype("int64").to_numpy(), pa.int64(), mask=mask)
    if kind == "timestamp":
        stamps = pd.to_datetime(values).astype("datetime64[us]")
        return pa.array(stamps, pa.timestamp("us"))
    if kind == "date":
        stamps = pd.to_datetime(values).astype("datetime64[us]").dt.normalize()
        return pa.array(stamps, pa.timestamp("us")).cast(pa.date32())
    if kind == "boolean":
        return pa.array(values.astype("boolean"), pa.bool_())
    raise AssertionError(f"unhandled kind {kind}")


def _refuse_messages(problem: pd.Series, column: str, refuse: Refuse) -> None:
    """Refuse each row whose `problem` holds a message (None: no problem), one `refuse`
    per distinct message (rows grouped by its English text, which is also the value the
    rejects file shows, as before the problems were messages)."""
    found = problem[problem.notna()]
    if found.empty:
        return
    texts = found.map(str)
    shown = texts.reindex(problem.index)
    for text in texts.unique():
        message = found[texts == text].iloc[0]
        rows = pd.Series(problem.index.isin(texts.index[texts == text]), index=problem.index)
        refuse(rows, column, message, shown)
