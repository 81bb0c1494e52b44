"""The value map and value counts computed once per distinct cell (`columns._mapped`,
`columns._count_values`) give exactly what the per-row pandas code gave: the same mapped
table, rejects, value counts and detections on random exports (decimal commas, DD.MM.YYYY
dates, currency signs, blanks, padded and case-varied categories, unknown values).

The per-row code is kept below, verbatim, as the reference.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from crmroi.ingest import columns
from crmroi.ingest.columns import STR, ColumnNotes, Refuse, ValueCount
from crmroi.ingest.currency import FxRates
from crmroi.ingest.mapping import ColumnSpec, MappingFile
from crmroi.ingest.reading import RawTable
from crmroi.ingest.reasons import not_in_value_map
from crmroi.ingest.transform import map_table
from crmroi.store.schema import Column

MAPPINGS = {
    "deals": {
        "source_system": "t",
        "tables": [
            {
                "entity": "deals",
                "columns": {
                    "deal_id": "Id",
                    "amount": "Amount",
                    "created_at": "Created",
                    "is_won": {
                        "column": "Stage",
                        "map": {"Won": True, "Lost": False, "Open": False},
                        "strict": True,
                    },
                    "kind": {
                        "column": "Type",
                        "map": {"New": "new_business", " Renewal ": "renewal"},
                    },
                    "source": {"column": "Source", "map": {"web": "Web"}, "default": "other"},
                },
            }
        ],
    },
    "activities": {
        "source_system": "t",
        "tables": [
            {
                "entity": "activities",
                "columns": {
                    "activity_id": "Id",
                    "occurred_at": "Date",
                    "kind": {"column": "Type", "map": {"Call": "call", "E-mail": "email"}},
                    "direction": "Dir",
                    "duration_minutes": "Minutes",
                },
            }
        ],
    },
}

padded = st.sampled_from(
    ["", " ", None, "Won", " won ", "LOST", "Open", "open ", "Stalled", "ß", "SS"]
)
kinds = st.sampled_from(
    ["", None, "New", "new", " RENEWAL", "Renewal ", "Upsell", "Call", "e-mail", "Meeting"]
)
dirs = st.sampled_from(["", None, "Inbound", "outbound", " in-bound", "Sideways"])
amounts = st.sampled_from(
    ["", None, "1.234,50", "1234.5", "€ 12,00", "$3", "12 345", "-7", "abc", "1,5"]
)
dates = st.sampled_from(["", None, "31.01.2024", "01.02.2024", "2024-03-04", "13.13.2024", "x"])
ids = st.sampled_from(["A1", "A2", "A3", " A4", "", None])


def _old_mapped(
    spec: ColumnSpec,
    values: pd.Series,
    source: str,
    col: Column,
    text_of: Callable[[object], str | None],
    refuse: Refuse,
    notes: ColumnNotes,
) -> pd.Series:
    lookup = {key: text_of(value) for key, value in spec.lookup().items()}
    norm = values.fillna("").str.strip().str.casefold()
    hit = norm.isin(list(lookup)).astype(bool)
    out = values.where(~hit, norm.map(lookup).astype(STR))
    empty = (norm == "").astype(bool)
    if spec.strict:
        unknown = ~hit & ~empty
        refuse(unknown, source, not_in_value_map(col.name, source), values)
        out = out.mask(unknown)
        if spec.default is not None:
            out = out.where(~(empty & ~hit), text_of(spec.default))
    elif spec.default is not None:
        out = out.where(hit, text_of(spec.default))
    known = {k for k in lookup if k}
    _old_count_values(values, out, known, source, col, notes)
    return out


def _old_count_values(
    values: pd.Series,
    out: pd.Series,
    known: set[str],
    source: str,
    col: Column,
    notes: ColumnNotes,
    choices: tuple[str, ...] = (),
) -> None:
    frame = pd.DataFrame(
        {"value": values.fillna("").str.strip(), "canonical": out.astype(object)}
    ).astype({"value": object})
    frame = frame[frame["value"] != ""]
    if frame.empty:
        return
    frame["canonical"] = frame["canonical"].where(frame["canonical"].notna(), None)
    counts = frame.groupby(["value"], sort=False).agg(
        count=("value", "size"), canonical=("canonical", "first")
    )
    counts = counts.sort_values("count", ascending=False, kind="stable")
    for value, row in counts.head(notes.max_values).iterrows():
        text = str(value)
        canonical = None if row["canonical"] is None else str(row["canonical"])
        if choices:
            canon = text.casefold().replace(" ", "_").replace("-", "_")
            mapped = canon in choices
            canonical = canon if mapped else None
        else:
            mapped = text.casefold() in known
        count = int(row["count"])
        notes.values.append(ValueCount(col.name, source, text, canonical, count, mapped))


def _map(entity: str, frame: pd.DataFrame, max_values: int) -> tuple[object, ...]:
    raw = RawTable(Path("x.csv"), frame, "utf-8", ",", None)
    mapping = MappingFile.model_validate(MAPPINGS[entity]).tables[0]
    rates = FxRates.from_frame("EUR", None)
    m = map_table(raw, mapping, source_system="t", batch_id="b", rates=rates, max_values=max_values)
    return (m.table, m.rejects, m.values, m.detected, m.warnings, m.lines, m.refused_keys)


def _agree(
    entity: str, frame: pd.DataFrame, max_values: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    fast = _map(entity, frame, max_values)
    with monkeypatch.context() as m:
        m.setattr(columns, "_mapped", _old_mapped)
        m.setattr(columns, "_count_values", _old_count_values)
        old = _map(entity, frame, max_values)
    assert fast[0].equals(old[0])
    assert fast[1:] == old[1:]


def _frame(rows: list[tuple[str | None, ...]], names: list[str], arrow: bool) -> pd.DataFrame:
    frame = pd.DataFrame(rows, columns=names, dtype=object)
    return frame.astype(STR) if arrow else frame


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    rows=st.lists(st.tuples(ids, amounts, dates, padded, kinds, kinds), min_size=0, max_size=40),
    arrow=st.booleans(),
    max_values=st.sampled_from([2, 50]),
)
def test_fast_value_map_agrees_on_deals(
    rows: list[tuple[str | None, ...]],
    arrow: bool,
    max_values: int,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    names = ["Id", "Amount", "Created", "Stage", "Type", "Source"]
    _agree("deals", _frame(rows, names, arrow), max_values, monkeypatch)


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    rows=st.lists(st.tuples(ids, dates, kinds, dirs, amounts), min_size=0, max_size=40),
    arrow=st.booleans(),
)
def test_fast_value_map_agrees_on_activities(
    rows: list[tuple[str | None, ...]], arrow: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    names = ["Id", "Date", "Type", "Dir", "Minutes"]
    _agree("activities", _frame(rows, names, arrow), 50, monkeypatch)
