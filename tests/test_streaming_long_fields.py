"""`streaming.long_rows` counts characters, not bytes: a field of multi-byte characters
under the limits is kept even when its bytes are over them (the byte length is only a
quick first look); one over them is noted or refused, as `read_raw` does."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pytest

from crmroi.errors import InputFileError
from crmroi.ingest.streaming import long_rows
from crmroi.limits import current_limits

STR = pd.StringDtype("pyarrow")


@pytest.fixture
def field_limit(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setenv("CRMROI_MAX_FIELD_BYTES", "1000000")
    current_limits.cache_clear()  # type: ignore[attr-defined]
    yield
    monkeypatch.delenv("CRMROI_MAX_FIELD_BYTES")
    current_limits.cache_clear()  # type: ignore[attr-defined]


def test_long_fields_are_noted_by_characters(field_limit: None) -> None:
    frame = pd.DataFrame(
        {
            "a": pd.Series(["é" * 60_000, "x" * 150_000, "ok", None], dtype=STR),
            "b": pd.Series(["ж" * 90_000, None, "y" * 100_001, "z"], dtype=STR),
        }
    )
    bad: dict[int, str] = {}
    long_rows(Path("f.csv"), frame, 2, bad, 10**7)
    assert bad == {
        3: "field in column a is longer than 100000 characters",
        4: "field in column b is longer than 100000 characters",
    }


def test_a_field_over_the_limit_is_refused_by_characters(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("CRMROI_MAX_FIELD_BYTES", "1000")
    current_limits.cache_clear()  # type: ignore[attr-defined]
    try:
        kept = pd.DataFrame({"a": pd.Series(["é" * 900, "ok"], dtype=STR)})
        long_rows(Path("f.csv"), kept, 2, {}, 10**7)  # 1,800 bytes, 900 characters
        over = pd.DataFrame({"a": pd.Series(["ok", "x" * 1001], dtype=STR)})
        with pytest.raises(InputFileError, match="row 3, column a: the field is longer"):
            long_rows(Path("f.csv"), over, 2, {}, 10**7)
    finally:
        monkeypatch.delenv("CRMROI_MAX_FIELD_BYTES")
        current_limits.cache_clear()  # type: ignore[attr-defined]
