"""`crmroi import` on malformed input as a user runs it: whatever the files, the mapping and
the options, the command ends with exit 0, 1 (one line naming the problem) or 2 (usage), and
never prints a traceback. Runs the command line in-process (the same `main` as the
`crmroi` script) so that many examples stay fast."""

from __future__ import annotations

import contextlib
import io
import sys
import tempfile
import zipfile
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from crmroi.cli import main

HEADERS = [
    "Deal - ID,Deal - Title,Deal - Status,Deal - Value,Deal - Won time,Deal - Lost time",
    "Record ID,Deal Name,Deal Stage,Amount,Close Date,Is Closed Won",
    "ID;Название сделки;Стадия сделки;Сумма;Дата создания",
    "id,amount,closed,won",
    "",
]
cells = st.one_of(
    st.text(max_size=10),
    st.sampled_from(["EUR 1,000.00", "￥１２万", "۱۴۰۲/۱۱/۱۲", "2024年2月1日", "31.02.2024"]),
    st.sampled_from(["1e999", "-0", "NaN", "1,2,3", ""]),
    st.sampled_from(["Won", "Lost", "Open", "closedwon", "Сделка успешна", '"', "\x00", "=1+1"]),
)
MAPPINGS = st.one_of(
    st.just(None),
    st.text(max_size=80),
    st.sampled_from(
        [
            "source_system: f\ntables:\n  - entity: deals\n    columns: {deal_id: Id}\n",
            "source_system: f\ntables:\n  - entity: deals\n"
            "    columns: {deal_id: id, amount: amount}\n"
            "    numbers: {thousands: '٬'}\n    constants: {is_won: false}\n",
            "source_system: f\ntables:\n  - entity: nope\n",
            "tables: [",
            "source_system: f\ntables:\n  - entity: deals\n    columns:\n      deal_id: id\n"
            "      is_won: {column: won, map: {x: true}, strict: true}\n"
            "    csv: {header_row: 99}\n",
        ]
    ),
)


def body(header: str, rows: list[list[str]], sep: str) -> str:
    return "\n".join([header, *(sep.join(r) for r in rows)]) + "\n"


def run(args: list[str]) -> tuple[int, str]:
    """Run `crmroi ARGS` in-process: (exit code, everything printed)."""
    out, err = io.StringIO(), io.StringIO()
    argv = sys.argv
    sys.argv = ["crmroi", *args]
    code = 0
    try:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            main()
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else 1
    finally:
        sys.argv = argv
    return code, out.getvalue() + err.getvalue()


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    header=st.sampled_from(HEADERS),
    rows=st.lists(st.lists(cells, max_size=7), max_size=6),
    sep=st.sampled_from([",", ";", "\t"]),
    encoding=st.sampled_from(["utf-8", "utf-16", "cp1251", "gbk", "cp1252"]),
    suffix=st.sampled_from([".csv", ".xlsx", ".txt"]),
    source=st.sampled_from(["generic", "pipedrive", "hubspot", "bitrix24", "odoo", "nope"]),
    mapping=MAPPINGS,
    options=st.lists(
        st.sampled_from(
            [
                ["--encoding", "klingon"],
                ["--encoding", "cp1252"],
                ["--header-row", "7"],
                ["--header-row", "0"],
                ["--entity", "deals"],
                ["--entity", "ufos"],
                ["--strict"],
                ["--format", "json"],
                ["--base-currency", "EURO"],
            ]
        ),
        max_size=3,
    ),
)
def test_cli_import_never_prints_a_traceback(
    header: str,
    rows: list[list[str]],
    sep: str,
    encoding: str,
    suffix: str,
    source: str,
    mapping: str | None,
    options: list[list[str]],
) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        path = folder / f"export{suffix}"
        text = body(header, rows, sep)
        if suffix == ".xlsx":  # a broken workbook: a zip without the parts Excel writes
            with zipfile.ZipFile(path, "w") as archive:
                archive.writestr("xl/worksheets/sheet1.xml", text)
        else:
            path.write_bytes(text.encode(encoding, errors="replace"))
        args = ["import", str(folder / "ws"), str(path), "--source", source]
        if mapping is not None:
            (folder / "m.yaml").write_text(mapping, encoding="utf-8")
            args += ["--mapping", str(folder / "m.yaml")]
        for option in options:
            args += option
        code, printed = run(args)
    assert code in (0, 1, 2), (code, printed)
    assert "Traceback" not in printed, printed
    if code == 1:
        errors = [line for line in printed.splitlines() if line.startswith("error:")]
        assert errors, printed
