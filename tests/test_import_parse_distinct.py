"""Numbers, dates, booleans and choices parsed once per distinct cell (`transform._parse`)
give exactly what parsing every row gives: the same mapped table, rejects and detections
(decimal comma or point, date order, the conflicting-order counts, boolean counts), the
decision weighted by how many rows hold each value.

The reference parses every row (`_parse_cells` without counts, as before).
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from crmroi.ingest import columns, transform
from crmroi.ingest.currency import FxRates
from crmroi.ingest.mapping import MappingFile
from crmroi.ingest.reading import RawTable
from crmroi.ingest.transform import STR, map_table

MAPPING = {
    "source_system": "t",
    "tables": [
        {
            "entity": "deals",
            "columns": {
                "deal_id": "Id",
                "amount": "Amount",
                "created_at": "Created",
                "closed_at": "Closed",
                "is_won": "Won",
                "stage": "Stage",
            },
        }
    ],
}

ids = st.sampled_from(["A1", "A2", "A3", "A4", "A5", "A6", "", None])
# one value repeated outweighs several distinct ones: the vote must count rows, not values
amounts = st.sampled_from(
    ["", None, "1,234", "1.234", "1,5", "2.5", "1.234,50", "1,234.50", "12 345", "abc", "(7)"]
)
dates = st.sampled_from(
    ["", None, "01.02.2024", "13.02.2024", "02/13/2024", "03/04/2024", "2024-03-04", "x"]
)
stamps = st.sampled_from(["", None, "01/02/2024 10:00", "02/01/2024 9:30 PM", "20.01.2024"])
booleans = st.sampled_from(["", None, "yes", "No", " true", "0", "maybe"])
stages = st.sampled_from(["", None, "Closed Won", "open", "closed-lost", "Qualify"])


def _map(frame: pd.DataFrame) -> tuple[object, ...]:
    raw = RawTable(Path("x.csv"), frame, "utf-8", ",", None)
    mapping = MappingFile.model_validate(MAPPING).tables[0]
    rates = FxRates.from_frame("EUR", None)
    m = map_table(raw, mapping, source_system="t", batch_id="b", rates=rates)
    return (m.table, m.rejects, m.values, m.detected, m.warnings, m.lines, m.refused_keys)


def _every_row(col, values, source, mapping, refuse, detected, guesses):  # type: ignore[no-untyped-def]
    text = transform.stripped(values.astype(STR))
    return transform._parse_cells(col, text, source, mapping, refuse, detected, None, guesses)


@settings(
    max_examples=80, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    rows=st.lists(
        st.tuples(ids, amounts, dates, stamps, booleans, stages), min_size=0, max_size=60
    ),
    arrow=st.booleans(),
)
def test_parsing_distinct_cells_agrees_with_every_row(
    rows: list[tuple[str | None, ...]], arrow: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    names = ["Id", "Amount", "Created", "Closed", "Won", "Stage"]
    frame = pd.DataFrame(rows, columns=names, dtype=object)
    frame = frame.astype(STR) if arrow else frame
    distinct = _map(frame)
    with monkeypatch.context() as m:
        m.setattr(transform, "_parse", _every_row)
        every = _map(frame)
    assert distinct[0].equals(every[0])
    assert distinct[1:] == every[1:]


def test_the_decimal_vote_counts_rows_not_distinct_values() -> None:
    """'1,5' on 30 rows outweighs three distinct decimal-point values: a decimal comma."""
    values = ["1,5"] * 30 + ["2.25", "3.75", "4.125"]
    frame = pd.DataFrame(
        {
            "Id": [f"A{i}" for i in range(len(values))],
            "Amount": values,
            "Created": ["2024-01-01"] * len(values),
            **{name: [None] * len(values) for name in ("Closed", "Won", "Stage")},
        }
    )
    table, rejects, _, detected = _map(frame)[:4]
    assert str(detected["amount"]).startswith("decimal comma (detected)")  # type: ignore[index]
    assert table.column("amount").to_pylist()[:30] == [1.5] * 30  # type: ignore[attr-defined]
    # 2.25 and 3.75 are refused; 4.125 reads as 4,125 (a thousands point)
    assert [r.row for r in rejects] == [32, 33]  # type: ignore[attr-defined]


def test_long_mostly_distinct_columns_skip_the_count_of_distinct_cells() -> None:
    """Timestamps (nearly every cell differs) are parsed cell by cell without counting
    them first; a long column of a few thousand values repeated is parsed per value."""
    stamps = pd.Series([f"2024-01-01T00:00:{i // 60 % 60:02d}.{i}Z" for i in range(60_000)])
    minutes = pd.Series([str(i % 3600) for i in range(60_000)])
    assert columns.mostly_distinct(stamps.astype(STR))
    assert not columns.mostly_distinct(minutes.astype(STR))
    assert not columns.mostly_distinct(stamps.iloc[:30_000].astype(STR))  # short: counted
