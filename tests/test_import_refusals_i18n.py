"""Import refusals are messages: a file-level refusal, an import refused whole, a currency
cell and an over-long field keep their English text (as the f-strings wrote it), carry a
stable code and read in the reader's language; a streamed file's spooled rejects keep
their code and parameters, so streamed and whole-file imports word them the same."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

import crmroi.ingest.mapped as mapped_files
from crmroi.errors import InputFileError, UserError, error_code
from crmroi.ingest import pipeline, refusals, reject_spool
from crmroi.ingest.currency import apply_cell_currencies, cell_currencies
from crmroi.ingest.pipeline import import_files
from crmroi.ingest.reading import read_raw
from crmroi.ingest.rejects import Reject, reason_code
from crmroi.messages import code_of, render, said_of
from crmroi.reports.i18n import get_lang
from crmroi.store import Store
from tests.i18n_words import english_words
from tests.test_catalogues import TRANSLATED
from tests.test_import_streaming_rejects import MAPPING, _export

RU = get_lang("ru")
WRITE = pipeline.write_rejects_csv


def _stream(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CRMROI_STREAM_BYTES", "0")
    monkeypatch.setenv("CRMROI_STREAM_BLOCK_BYTES", "64")
    monkeypatch.setattr(reject_spool, "SAMPLE", 5)  # most rejects only in the spool


def _worded(
    folder: Path, csv: Path, name: str, monkeypatch: pytest.MonkeyPatch
) -> list[tuple[int, str, str | None, str]]:
    """Every reject of importing `csv` (as the rejects file is written from them: a
    streamed file's from its spool): row, English reason, code and the reason in Russian."""
    (folder / "m.yaml").write_text(MAPPING, encoding="utf-8")
    seen: list[tuple[int, str, str | None, str]] = []

    def kept(rejects: Iterable[Reject], path: Path) -> int:
        listed = list(rejects)
        seen.extend(
            (r.row, str(r.reason), reason_code(r.reason), render(r.reason, RU)) for r in listed
        )
        return WRITE(listed, path)

    monkeypatch.setattr(pipeline, "write_rejects_csv", kept)
    calls = {"streamed": 0}
    stream = mapped_files.map_stream

    def counted(*args: Any, **kwargs: Any) -> Any:
        calls["streamed"] += 1
        return stream(*args, **kwargs)

    monkeypatch.setattr(mapped_files, "map_stream", counted)
    with Store.open(folder / name, create=True) as store:
        import_files(store, [csv], mapping=folder / "m.yaml", rejects_path=folder / f"{name}.csv")
    assert calls["streamed"] == (name == "streamed")
    return seen


def test_streamed_and_whole_rejects_have_the_same_codes_and_russian(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    csv = _export(tmp_path)
    whole = _worded(tmp_path, csv, "whole", monkeypatch)
    _stream(monkeypatch)
    streamed = _worded(tmp_path, csv, "streamed", monkeypatch)
    assert len(whole) > 100 and streamed == whole
    assert all(code for _, _, code, _ in streamed)
    assert {"import_duplicate_id", "import_not_a_date", "import_no_id"} <= {
        code for _, _, code, _ in streamed
    }
    assert not any("cannot read" in text for *_, text in streamed)


def _refusal(folder: Path, csv: Path, name: str) -> UserError:
    (folder / "m.yaml").write_text(MAPPING, encoding="utf-8")
    with Store.open(folder / name, create=True) as store, pytest.raises(UserError) as caught:
        import_files(store, [csv], mapping=folder / "m.yaml", rejects_path=folder / "r.csv")
    return caught.value


def test_an_import_refused_whole_reads_the_same_streamed_and_whole(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    csv = _export(tmp_path, good=False)
    whole = _refusal(tmp_path, csv, "whole")
    _stream(monkeypatch)
    streamed = _refusal(tmp_path, csv, "streamed")
    assert str(streamed) == str(whole) and "all 400 rows were refused" in str(whole)
    assert error_code(streamed) == error_code(whole) == "import_all_refused"
    russian = render(said_of(streamed), RU)
    assert russian == render(said_of(whole), RU)
    assert "ничего не импортировано" in russian and "чаще всего" in russian
    said = russian.split("; см. ")[0].replace("ActivityDate", "")
    assert english_words(said) == [] and "как дату" in said, russian


def test_file_refusals_keep_english_and_carry_codes(tmp_path: Path) -> None:
    empty = tmp_path / "empty.csv"
    empty.write_text("\n", encoding="utf-8")
    with pytest.raises(InputFileError) as caught:
        read_raw(empty)
    assert str(caught.value) == "empty.csv: the file is empty"
    assert error_code(caught.value) == "input_empty"
    assert render(said_of(caught.value), RU) == "empty.csv: файл пуст"
    odd = tmp_path / "x.odt"
    odd.write_text("a", encoding="utf-8")
    with pytest.raises(InputFileError) as caught:
        read_raw(odd)
    assert str(caught.value).startswith("x.odt: unknown file extension '.odt' (expected .csv")
    assert "неизвестное расширение файла '.odt'" in render(said_of(caught.value), RU)
    english = [
        (
            refusals.field_limit(131072),
            ("a field is longer than 131,072 characters (setting CRMROI_MAX_FIELD_BYTES)"),
        ),
        (
            refusals.long_field(7, "Notes", 1000),
            (
                "row 7, column Notes: the field is longer than 1,000 characters (setting "
                "CRMROI_MAX_FIELD_BYTES)"
            ),
        ),
        (
            refusals.long_field_row("Notes", 32767),
            ("field in column Notes is longer than 32767 characters"),
        ),
        (
            refusals.many_cells(2000, 300, 500000),
            (
                "2,000 rows x 300 columns exceed the limit of 500,000 cells (setting "
                "CRMROI_MAX_CELLS)"
            ),
        ),
        (
            refusals.cannot_decode("cp1251", 0x98, 12),
            ("cannot decode the file as cp1251: invalid byte 0x98 at offset 12"),
        ),
        (
            refusals.strict_refused(12, 9, Path("r.csv")),
            ("12 problems in 9 rows; nothing was imported (--strict); see r.csv"),
        ),
        (
            refusals.column_not_in_file("d.csv", "Amt", "deals", "amount", "Amount", [], False),
            (
                "d.csv: column 'Amt' (mapped to deals.amount) is not in the file; did you mean "
                "'Amount'?"
            ),
        ),
        (
            refusals.base_currency_held("EUR", ["deals"], "USD"),
            (
                "the workspace already holds amounts in EUR (deals); its base currency cannot "
                "become USD"
            ),
        ),
    ]
    allowed = {"Notes", "Amt", "Amount", "cp1251", "r.csv", "strict", "deals"}  # names, codes
    for message, text in english:
        assert str(message) == text
        for code in TRANSLATED:
            worded = render(message, get_lang(code))
            assert [w for w in english_words(worded) if w not in allowed] == [], worded


@pytest.mark.parametrize(
    ("cell", "stated", "code"),
    [("kr 5", "", "import_ambiguous_sign"), ("EUR 5", "USD", "import_currency_clash")],
)
def test_currency_cell_problems_are_messages(cell: str, stated: str, code: str) -> None:
    signs = cell_currencies(pd.Series([cell]))
    result = apply_cell_currencies(pd.Series([stated], dtype=object), {"amount": signs}, "GBP")
    problem = result.problem.iloc[0]
    assert code_of(problem) == code
    russian = render(problem, RU)
    assert "currency" not in russian and ("валют" in russian)


def test_the_cli_says_a_refusal_in_the_language_of_lang(tmp_path: Path) -> None:
    import os
    import subprocess
    import sys

    (tmp_path / "m.yaml").write_text(MAPPING, encoding="utf-8")
    empty = tmp_path / "tasks.csv"
    empty.write_text("\n", encoding="utf-8")
    args = [sys.executable, "-m", "crmroi", "import", str(tmp_path / "ws"), str(empty)]
    args += ["--mapping", str(tmp_path / "m.yaml")]
    env = {**os.environ, "LC_ALL": "C.UTF-8", "COLUMNS": "200", "NO_COLOR": "1"}
    env.pop("LANGUAGE", None)
    said = {}
    for lang in ("en", "ru"):
        out = subprocess.run(
            [*args, "--lang", lang], capture_output=True, text=True, env=env, check=False
        )
        assert out.returncode == 1, out.stderr
        said[lang] = " ".join(out.stderr.split())
    assert "error: tasks.csv: the file is empty" in said["en"]
    assert "tasks.csv: файл пуст" in said["ru"] and "the file is empty" not in said["ru"]


def test_import_warnings_keep_english_and_read_in_each_language() -> None:
    from crmroi.ingest import import_notes

    where = import_notes.by_name("Deals", "account_id")
    cases = [
        (
            import_notes.garbled("a.csv", 3, 40, "cp1252", False, ["utf-8", "cp1252"], "'Mьller'"),
            "a.csv: 3 of 40 words with non-ASCII letters look garbled when read as cp1252 "
            "(detected; tried utf-8, cp1252), e.g. 'Mьller'; if names look wrong, pass the "
            "file's encoding (crmroi import --encoding, or encoding: in the mapping's csv "
            "settings)",
        ),
        (
            import_notes.unlinked(where, 4, "accounts", "'Acme' (2)"),
            "Deals (account_id by name): 4 rows name a accounts record that neither this "
            "import nor the workspace has, e.g. 'Acme' (2); left unlinked",
        ),
        (
            import_notes.several_ids("a.csv", 2, "Ids", "deals", "account_id", "1;2"),
            "a.csv: 2 cells of 'Ids' (deals.account_id) hold several ids, e.g. '1;2'; the "
            "first id of each is kept",
        ),
    ]
    allowed = {"Deals", "accounts", "Acme", "Ids", "cp1252", "deals", "import", "csv"}
    allowed |= {"crmroi", "encoding", "M", "ller"}  # "Mьller" splits at the Cyrillic letter
    for said, english in cases:
        assert said == english and code_of(said)
        for code in TRANSLATED:
            text = render(said, get_lang(code))
            assert [w for w in english_words(text) if w not in allowed] == [], text


def _api(tmp_path: Path, name: str, content: bytes, dry_run: bool) -> tuple[int, Any]:
    from tests.web_support import login, make_app

    app = make_app(str(tmp_path / name))
    try:
        analyst = login(app, "analyst")
        response = analyst.post(
            "/api/v1/imports",
            files=[
                ("files", ("tasks.csv", content, "text/csv")),
                ("mapping", ("m.yaml", MAPPING.encode(), "application/x-yaml")),
            ],
            data={"dry_run": "true"} if dry_run else {},
        )
        return response.status_code, response.json()
    finally:
        app.state.crmroi.access.close()


def test_the_api_gives_the_same_codes_for_a_streamed_and_a_whole_import(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    good, bad = _export(tmp_path).read_bytes(), _export(tmp_path, good=False).read_bytes()
    whole = [_api(tmp_path, f"whole{i}", c, d) for i, (c, d) in enumerate([(good, 1), (bad, 0)])]
    _stream(monkeypatch)
    streamed = [_api(tmp_path, f"str{i}", c, d) for i, (c, d) in enumerate([(good, 1), (bad, 0)])]
    keys = ("row", "column", "reason", "reason_code", "reason_params")
    for (status, s), (_, w) in zip(streamed, whole, strict=True):
        if status == 200:
            assert [[r[k] for k in keys] for r in s["rejects"]] == [
                [r[k] for k in keys] for r in w["rejects"]
            ]
            assert all(r["reason_code"] for r in s["rejects"]) and len(s["rejects"]) > 100
        else:
            assert status == 400 and s["code"] == w["code"] == "import_all_refused"
            assert s["detail"].split("; see ")[0] == w["detail"].split("; see ")[0]
