"""Malformed files never crash the importer with anything but crmroi's own errors,
and never leave a partial batch behind."""

from __future__ import annotations

import tempfile
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from crmroi.errors import CrmroiError
from crmroi.ingest.pipeline import import_files
from crmroi.store import Store

MAPPING = """
source_system: fuzz
tables:
  - entity: deals
    columns:
      deal_id: id
      amount: amount
      closed_at: closed
      account_id: account
      is_won: {column: won, map: {yes: true, no: false}}
"""

HEADER = ["id", "amount", "closed", "account", "won"]

cells = st.one_of(
    st.text(max_size=12),
    st.sampled_from(["=cmd|' /C calc'!A0", "+1+1", "-2", "@SUM(A1)", '"quoted, comma"', "\n"]),
    st.integers().map(str),
    st.floats(allow_nan=True, allow_infinity=True).map(str),
    st.sampled_from(["1 234,5", "1.234,5", "31.02.2024", "2024-13-01", "45000", "yes", "no"]),
    st.text(min_size=2000, max_size=3000),
)
rows = st.lists(st.lists(cells, min_size=0, max_size=7), max_size=12)
encodings = st.sampled_from(["utf-8", "utf-8-sig", "utf-16", "cp1251", "gbk", "latin-1"])
delimiters = st.sampled_from([",", ";", "\t", "|"])


def render(header: list[str], body: list[list[str]], delimiter: str) -> str:
    def quote(value: str) -> str:
        if any(c in value for c in (delimiter, '"', "\n", "\r")):
            return '"' + value.replace('"', '""') + '"'
        return value

    lines = [delimiter.join(quote(c) for c in row) for row in [header, *body]]
    return "\n".join(lines) + "\n"


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    body=rows,
    encoding=encodings,
    delimiter=delimiters,
    truncate=st.one_of(st.none(), st.integers(min_value=0, max_value=400)),
    header_drop=st.booleans(),
)
def test_malformed_csv_is_refused_cleanly_and_atomically(
    body: list[list[str]],
    encoding: str,
    delimiter: str,
    truncate: int | None,
    header_drop: bool,
) -> None:
    header = HEADER[:-2] if header_drop else HEADER
    data = render(header, body, delimiter).encode(encoding, errors="replace")
    if truncate is not None:
        data = data[:truncate]
    with tempfile.TemporaryDirectory() as folder:
        root = Path(folder)
        (root / "map.yaml").write_text(MAPPING, encoding="utf-8")
        good = root / "good.csv"
        good.write_text("id,amount,closed,account,won\nG1,10,2024-01-01,A,yes\n", encoding="utf-8")
        bad = root / "deals.csv"
        bad.write_bytes(data)
        with Store.open(root / "ws", create=True) as store:
            import_files(store, [good], mapping=root / "map.yaml")
            before = store.to_arrow("deals", order_by=["deal_id"])
            try:
                report = import_files(store, [bad], mapping=root / "map.yaml")
            except CrmroiError:
                assert store.to_arrow("deals", order_by=["deal_id"]).equals(before)
                statuses = [b["status"] for b in store.to_arrow("import_batches").to_pylist()]
                assert statuses[0] == "loaded" and statuses[-1].startswith("failed")
                return
            loaded = store.count("deals")
            assert report.rows_in == report.rows_loaded + report.rows_rejected
            assert loaded == 1 + report.files[0].inserted
            for reject in report.rejects:
                assert reject.file == "deals.csv" and reject.reason
                assert reject.row >= 2
