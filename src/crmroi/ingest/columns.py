"""The raw text of one canonical column: which source columns, combined how, mapped how.

Pure: takes the file's strings (a pandas frame) and a `TableMapping`, returns the
strings the column parser reads, and records what it saw on the way: each mapped
value with its count (`ValueCount`), cells holding several ids, names to resolve.
"""

from __future__ import annotations

import difflib
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from crmroi.errors import MappingError
from crmroi.ingest import import_notes, refusals
from crmroi.ingest.mapping import ColumnSpec, TableMapping
from crmroi.ingest.patterns import pattern_matches
from crmroi.ingest.reasons import not_in_value_map
from crmroi.messages import Items, Message
from crmroi.store.schema import ID_COLUMN, Column

STR = pd.StringDtype("pyarrow")
MULTI_ID_SEPARATORS = ";"
MAX_VALUES_SHOWN = 50  # distinct source values kept per column in the summary

Refuse = Callable[[pd.Series, str, "str | Message", "pd.Series | None"], None]
"""Marks rows as refused: (mask, source column, reason, values); the reason is a text with
{v} for the value or a message with `rejects.CELL`/`CELL_REPR` parameters."""


@dataclass(frozen=True)
class ValueCount:
    """How often a source value of a mapped categorical column occurred, and what it became.

    `mapped` is False for a value the mapping does not list (passed through, given the
    default, or refused under `strict`)."""

    column: str
    source: str
    value: str
    canonical: str | None
    count: int
    mapped: bool


@dataclass
class ColumnNotes:
    """What building the columns of one file noticed, for the import summary."""

    values: list[ValueCount] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    names: dict[str, pd.Series] = field(default_factory=dict)  # link column -> names to resolve
    max_values: int = MAX_VALUES_SHOWN  # distinct values kept per column


@dataclass(frozen=True)
class FileColumns:
    """The file a table mapping is applied to: its frame, header and how strict to be."""

    name: str
    frame: pd.DataFrame
    header: dict[str, str]  # casefolded, stripped name -> the header as written
    optional: bool  # named columns missing from the file are ignored (presets)

    @property
    def rows(self) -> int:
        return len(self.frame)

    def find(self, name: str) -> str | None:
        return self.header.get(name.strip().casefold())

    def typo(self, name: str, entity: str, column: str) -> MappingError:
        """The error for a mapped source column the file lacks, naming the closest header."""
        written = list(self.header.values())
        close = difflib.get_close_matches(name.strip().casefold(), list(self.header), n=1)
        nearest = self.header[close[0]] if close else None
        no_id = column == ID_COLUMN.get(entity)
        return MappingError(
            refusals.column_not_in_file(self.name, name, entity, column, nearest, written, no_id)
        )


KPI_COLUMNS = frozenset(
    {
        ("deals", "amount"),
        ("deals", "created_at"),
        ("deals", "closed_at"),
        ("deals", "is_won"),
        ("deals", "is_closed"),
        ("leads", "created_at"),
        ("activities", "occurred_at"),
    }
)
"""Columns the sales KPIs read: a mapped one that finds no column in a file is said."""


def source_text(
    col: Column,
    mapping: TableMapping,
    file: FileColumns,
    text_of: Callable[[object], str | None],
    refuse: Refuse,
    notes: ColumnNotes,
) -> tuple[pd.Series, str] | None:
    """The raw strings for canonical column `col` (mapped, constant or default), or None.

    `text_of` turns a mapping's constant or value-map target into the text the column
    parser reads (`transform.mapping_text`)."""
    n = file.rows
    spec = mapping.columns.get(col.name)
    if spec is None and col.name in mapping.constants:
        value = mapping.constants[col.name]
        return pd.Series([text_of(value)] * n, dtype=STR), col.name
    if spec is None:
        spec = ColumnSpec(column=col.name) if file.find(col.name) else None
    if spec is None:
        if col.required:
            raise MappingError(refusals.nothing_mapped(file.name, mapping.entity, col.name))
        return None
    picked = _picked(spec, mapping, file, col)
    values, source = _combined(spec, picked, file)
    if spec.names:
        values = _with_names(spec, values, file, col, notes)
        source = source or next((s for s in (file.find(a) for a in spec.names) if s), None)
    if values is None or source is None:
        if spec.alternatives and col.required and spec.default is None:
            raise MappingError(
                refusals.missing_required(file.name, mapping.entity, col.name, spec.alternatives)
            )
        if spec.default is None:
            if (mapping.entity, col.name) in KPI_COLUMNS:
                looked = Items(spec.alternatives or [col.name])
                notes.warnings.append(
                    import_notes.left_empty(file.name, mapping.entity, col.name, looked)
                )
            return None
        return pd.Series([text_of(spec.default)] * n, dtype=STR), col.name
    if spec.pattern:
        values = values.where(pattern_matches(values, spec.pattern))
    if col.kind == "id" and col.name != ID_COLUMN.get(mapping.entity):
        values = _first_of_several(values, file, mapping.entity, col.name, source, notes)
    if spec.map is not None or spec.default is not None:
        values = _mapped(spec, values, source, col, text_of, refuse, notes)
    elif col.choices:
        _count_values(values, values, set(), source, col, notes, choices=col.choices)
    return values, source


def has_source(col: Column, mapping: TableMapping, file: FileColumns) -> bool:
    """Whether the file (or a constant) gives `col` any value at all."""
    if col.name in mapping.constants:
        return True
    spec = mapping.columns.get(col.name)
    if spec is None:
        return file.find(col.name) is not None
    return any(file.find(a) is not None for a in [*spec.alternatives, *spec.names])


def _picked(spec: ColumnSpec, mapping: TableMapping, file: FileColumns, col: Column) -> list[str]:
    """The spec's source columns present in the file; a lone missing column is a typo."""
    present = [s for s in (file.find(a) for a in spec.alternatives) if s is not None]
    several = len(spec.alternatives) > 1 and spec.join is None
    if not file.optional and not several and not spec.names:
        for name in spec.alternatives:
            if file.find(name) is None:
                raise file.typo(name, mapping.entity, col.name)
    if spec.join is None and not spec.coalesce:
        return present[:1]
    return present


def _combined(
    spec: ColumnSpec, picked: list[str], file: FileColumns
) -> tuple[pd.Series | None, str | None]:
    """One series from the picked columns: the first, the first filled per row, or joined."""
    if not picked:
        return None, None
    parts = [_blank_as_na(file.frame[name].astype(STR)) for name in picked]
    if spec.join is not None:
        rows = zip(*(part.str.strip().astype(object).tolist() for part in parts), strict=True)
        joined = [spec.join.join(str(v) for v in row if isinstance(v, str)) for row in rows]
        values = pd.Series([j or None for j in joined], dtype=STR)
        return values, " + ".join(picked)
    values = parts[0]
    for part in parts[1:]:
        values = values.fillna(part)
    return values, " / ".join(picked) if len(picked) > 1 else picked[0]


def _blank_as_na(values: pd.Series) -> pd.Series:
    """Blank cells (white space only) missing; Arrow's kernels (what `.str.strip()` runs)
    without pandas' wrapping."""
    cells = pa.array(values.array)
    blank = pc.equal(pc.utf8_trim_whitespace(cells), "")
    kept = pc.if_else(blank, pa.scalar(None, pa.string()), cells)
    return pd.Series(pd.arrays.ArrowStringArray(kept), dtype=STR)


def _with_names(
    spec: ColumnSpec, values: pd.Series | None, file: FileColumns, col: Column, notes: ColumnNotes
) -> pd.Series:
    """Where the id is missing, keep the linked record's name for later resolution."""
    named = [s for s in (file.find(a) for a in spec.names) if s is not None]
    ids = values if values is not None else pd.Series([None] * file.rows, dtype=STR)
    if not named:
        return ids
    names = _combined(ColumnSpec(column=named, coalesce=True), named, file)[0]
    assert names is not None
    names = names.str.strip().where(ids.isna())
    if bool(names.notna().any()):
        notes.names[col.name] = names
    return ids


def _first_of_several(
    values: pd.Series, file: FileColumns, entity: str, column: str, source: str, notes: ColumnNotes
) -> pd.Series:
    """A link cell holding several ids ("1;2") keeps the first, with a warning and count."""
    cells = pa.array(values.array)
    found = pc.match_substring(cells, MULTI_ID_SEPARATORS)
    if not pc.any(found).as_py():  # the common case: one Arrow scan
        return values
    flags = pc.fill_null(found, False).to_numpy(zero_copy_only=False)
    several = pd.Series(flags, index=values.index)
    count = int(several.sum())
    example = str(values[several].iloc[0])
    notes.warnings.append(
        import_notes.several_ids(file.name, count, source, entity, column, example[:60])
    )
    first = values.str.split(MULTI_ID_SEPARATORS, n=1).str[0].str.strip()
    return values.where(~several, first)


def _mapped(
    spec: ColumnSpec,
    values: pd.Series,
    source: str,
    col: Column,
    text_of: Callable[[object], str | None],
    refuse: Refuse,
    notes: ColumnNotes,
) -> pd.Series:
    """Apply the value map (and default, and strict), counting every source value."""
    lookup = {key: text_of(value) for key, value in spec.lookup().items()}
    # each distinct cell is stripped, casefolded and looked up once, then spread to its rows
    codes, distinct = _distinct(values)
    norm = distinct.str.strip().str.casefold()
    hit = _per_row(norm.isin(list(lookup)).to_numpy(dtype=bool), codes, values)
    looked_up = norm.map(lookup).astype(STR)
    out = values.where(~hit, pd.Series(looked_up.array.take(codes), index=values.index))
    empty = _per_row((norm == "").to_numpy(dtype=bool), codes, values)
    if spec.strict:
        unknown = ~hit & ~empty
        refuse(
            unknown,
            source,
            not_in_value_map(col.name, source),
            values,
        )
        out = out.mask(unknown)  # refused already: not parsed again (one reason per cell)
        if spec.default is not None:
            out = out.where(~(empty & ~hit), text_of(spec.default))
    elif spec.default is not None:
        out = out.where(hit, text_of(spec.default))
    known = {k for k in lookup if k}
    _count_values(values, out, known, source, col, notes, seen=(codes, distinct))
    return out


def _count_values(
    values: pd.Series,
    out: pd.Series,
    known: set[str],
    source: str,
    col: Column,
    notes: ColumnNotes,
    choices: tuple[str, ...] = (),
    seen: tuple[np.ndarray, pd.Series] | None = None,
) -> None:
    """Record source value -> canonical value (count), unmapped values marked: the first
    canonical value each source value (stripped) got, most frequent values first (ties in
    order of appearance). `seen`: `_distinct(values)` when already found."""
    codes, distinct = seen if seen is not None else _distinct(values)
    group_of, uniques = pd.factorize(distinct.str.strip(), sort=False)
    groups = pd.Series(uniques, dtype=STR)
    group = group_of[codes]  # each row's stripped value, numbered by first appearance
    filled = np.flatnonzero((groups == "").to_numpy(dtype=bool))
    blank = int(filled[0]) if len(filled) else -1
    counts = np.bincount(group, minlength=len(groups))
    if blank >= 0:
        counts[blank] = 0
    shown = [int(g) for g in np.argsort(-counts, kind="stable") if counts[g] > 0]
    if not shown:
        return
    with_canonical = np.flatnonzero(out.notna().to_numpy(dtype=bool) & (group != blank))
    firsts, at = np.unique(group[with_canonical], return_index=True)
    first_canonical = dict(zip(firsts.tolist(), with_canonical[at].tolist(), strict=True))
    for g in shown[: notes.max_values]:
        text = str(groups.iloc[g])
        row = first_canonical.get(g)
        canonical = None if row is None else str(out.iloc[row])
        if choices:
            canon = text.casefold().replace(" ", "_").replace("-", "_")
            mapped = canon in choices
            canonical = canon if mapped else None
        else:
            mapped = text.casefold() in known
        count = int(counts[g])
        notes.values.append(ValueCount(col.name, source, text, canonical, count, mapped))


def _distinct(values: pd.Series) -> tuple[np.ndarray, pd.Series]:
    """(each row's position in `distinct`, the distinct cells in order of appearance);
    a missing cell counts as ""."""
    codes, uniques = pd.factorize(values.fillna(""), sort=False)
    return codes, pd.Series(uniques, dtype=STR)


def _per_row(flags: np.ndarray, codes: np.ndarray, like: pd.Series) -> pd.Series:
    """A flag computed per distinct cell, for every row."""
    return pd.Series(flags[codes], index=like.index, dtype=bool)


_SAMPLE_CELLS = 10_000


def mostly_distinct(text: pd.Series) -> bool:
    """Whether more than half of the first `_SAMPLE_CELLS` cells of a long column differ
    (parsed one by one then: the same result as once per distinct cell, only faster)."""
    if len(text) < 4 * _SAMPLE_CELLS:
        return False
    return len(pd.unique(text.iloc[:_SAMPLE_CELLS])) * 2 > _SAMPLE_CELLS


def stripped(values: pd.Series) -> pd.Series:
    """Cells without surrounding white space, blank ones missing (`.str.strip()` is the
    same Arrow kernel, without pandas' wrapping)."""
    trimmed = pc.utf8_trim_whitespace(pa.array(values.array))
    kept = pc.if_else(pc.equal(trimmed, ""), pa.scalar(None, trimmed.type), trimmed)
    return pd.Series(pd.arrays.ArrowStringArray(kept), index=values.index, dtype=STR)
