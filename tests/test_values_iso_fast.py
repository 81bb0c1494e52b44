"""ISO 8601 columns read by one Arrow cast (`values._every_iso`) give exactly what the
reading of every shape (`values._parse_shapes`: pandas' ISO parser, then the other shapes)
gives: the same instants, the same refused cells, the same note."""

from __future__ import annotations

import numpy as np
import pandas as pd
from hypothesis import example, given, settings
from hypothesis import strategies as st

from crmroi.ingest import values
from crmroi.ingest.values import parse_dates

STR = pd.StringDtype("pyarrow")

_year = st.sampled_from([*range(1990, 2030), 1300, 1677, 1678, 2261, 2262, 3000])
_month = st.sampled_from([*range(1, 13), 13])  # mostly valid: the fast path is taken
_day = st.sampled_from([*range(1, 29), 29, 30, 31, 32])
_hour = st.sampled_from([*range(24), 24])
_minute = st.sampled_from([*range(60), 60])
_second = st.sampled_from(["", ":00", ":59", ":59", ":60"])
_fraction = st.sampled_from(["", "", ".5", ".123456", ".1234567", ".123456789"])
_zones = ["", "Z", "+05:30", "-0200", "+02", " UTC", "UTC"]


@st.composite
def iso_columns(draw: st.DrawFn) -> list[str]:
    """Columns of cells shaped like ISO 8601, mostly valid and of one zone (what the fast
    path takes), some not quite (a 13th month, 24:00, 7 decimals, zones mixed, 'UTC')."""
    zone = draw(st.sampled_from(_zones))
    cells = []
    for _ in range(draw(st.integers(1, 4))):
        y, m, d = draw(_year), draw(_month), draw(_day)
        time = ""
        if draw(st.booleans()):
            sep = draw(st.sampled_from(["T", " "]))
            time = f"{sep}{draw(_hour):02d}:{draw(_minute):02d}{draw(_second)}{draw(_fraction)}"
        mixed = draw(st.integers(0, 9)) == 0
        cells.append(
            f"{y:04d}-{m:02d}-{d:02d}{time}{draw(st.sampled_from(_zones)) if mixed else zone}"
        )
    return cells


def _by_shapes(cells: pd.Series) -> tuple[pd.Series, pd.Series, str]:
    """`parse_dates` without the Arrow fast path."""
    real = values._every_iso
    values._every_iso = lambda _: None  # type: ignore[assignment]
    try:
        parsed = parse_dates(cells)
    finally:
        values._every_iso = real  # type: ignore[assignment]
    return parsed.values, parsed.bad, parsed.detail


@settings(max_examples=300, deadline=None)
@given(iso_columns(), st.booleans())
@example(["2024-07-21 13:04:00+02"], False)  # a zone without minutes: not ISO here, Arrow reads it
@example(["2024-07-21T13Z", "2024-07-21T14Z"], False)  # hours without minutes: the same
@example(["2024-07-21T13:04:00.1234567Z"], True)  # more decimals than Arrow's microseconds
def test_iso_fast_path_equals_reading_every_shape(cells: list[str], blanks: bool) -> None:
    cells = [*cells, "", "  "] if blanks else cells
    column = pd.Series(cells, dtype=STR)
    fast = parse_dates(column)
    values_, bad, detail = _by_shapes(column)
    pd.testing.assert_series_equal(fast.values, values_, check_names=False)
    assert fast.bad.tolist() == bad.tolist()
    assert fast.detail == detail


def test_iso_fast_path_is_taken_for_a_clean_column() -> None:
    """The case the fast path is for (a CRM export's UTC timestamps) takes it."""
    cells = pd.Series(["2024-01-31T10:00:00.000Z", "2023-12-01T23:59:59.123Z", None], dtype=STR)
    present = cells.dropna()
    fast = values._every_iso(values._clean_dates(present))
    assert fast is not None
    expected = np.array(["2024-01-31T10:00:00", "2023-12-01T23:59:59.123"], "datetime64[us]")
    assert (fast.to_numpy() == expected).all()
    assert values._every_iso(pd.Series(["2024-02-30"], dtype=STR)) is None  # no such day
