"""The importer's refusal reasons are messages: English text unchanged, a stable code,
and the reason worded in the reader's language (the import wizard's table)."""

from __future__ import annotations

import datetime as dt

import pandas as pd

from crmroi.ingest import reasons
from crmroi.ingest.rejects import Reject, reason_code, reason_text, write_rejects_csv
from crmroi.messages import Said, render
from crmroi.reports.i18n import get_lang
from crmroi.store.schema import TABLES
from tests.test_catalogues import TRANSLATED


def test_reasons_read_as_before_in_english() -> None:
    stage = next(c for c in TABLES["deals"].all_columns if c.choices and len(c.choices) <= 12)
    cases = {
        reason_text(reasons.NOT_A_NUMBER, "сто"): "cannot read 'сто' as a number",
        reason_text(reasons.NOT_WHOLE, "1.5"): "'1.5' is not a whole number",
        reason_text(reasons.NOT_A_DATE, "31.02"): "cannot read '31.02' as a date",
        reason_text(reasons.NOT_BOOLEAN, "ja"): "cannot read 'ja' as true/false",
        reason_text(reasons.empty("amount"), ""): "amount is empty",
        reason_text(reasons.NO_ID, ""): "row has no id",
        reason_text(reasons.no_fx_rate("USD"), "EUR"): (
            "no exchange rate for EUR into USD (import fx_rates first)"
        ),
        reason_text(reasons.not_in_value_map("stage", "Этап"), "x"): (
            "stage: 'x' is not one of the mapping's values for 'Этап'"
        ),
        reasons.duplicate_id("D-1", 7): "duplicate id 'D-1': row 7 has the same id and was kept",
        reasons.wrong_field_count(5, 4): "row has 5 fields, header has 4",
        reasons.not_month_start(dt.date(2024, 3, 7)): (
            "2024-03-07 is not the first day of a month (a supplied baseline is one value per "
            "month: give 2024-03-01)"
        ),
        reasons.month_given_twice("win_rate", dt.date(2024, 3, 1), "2, 5"): (
            "win_rate for 2024-03 is given in rows 2, 5: give one value a month"
        ),
        reason_text(reasons.not_a_choice(stage, stage.choices[0] + "x"), "y"): (
            f"{stage.name} 'y' is not one of {', '.join(stage.choices)}; did you mean "
            f"{stage.choices[0]!r}?"
        ),
    }
    for said, english in cases.items():
        assert said == english and isinstance(said, Said)
        assert reason_code(said) is not None and reason_code(said).startswith("import_")


def test_reasons_are_worded_in_every_language() -> None:
    said = reason_text(reasons.NOT_A_NUMBER, "сто")
    for code in TRANSLATED:
        text = render(said, get_lang(code))
        assert "'сто'" in text and "cannot read" not in text, code
    assert render(said, get_lang("ru")) == "не удаётся прочитать 'сто' как число"
    near = _column().choices[0] + "x"
    hinted = reason_text(reasons.not_a_choice(_column(), near), near)
    assert "did you mean" in hinted and "did you mean" not in render(hinted, get_lang("bg"))
    assert "може би имахте предвид" in render(hinted, get_lang("bg"))


def test_plain_text_reasons_and_files_are_unchanged(tmp_path) -> None:
    assert reason_text("{v} is odd", "x") == "x is odd" and reason_code("x is odd") is None
    said = reason_text(reasons.NOT_A_NUMBER, "=1+1")
    out = tmp_path / "rejects.csv"
    write_rejects_csv([Reject("f.csv", 3, "amount", said, "=1+1")], out)
    text = out.read_text(encoding="utf-8-sig")
    assert "cannot read '=1+1' as a number" in text and "'=1+1" in text
    assert pd.read_csv(out).shape == (1, 5)


def _column():
    return next(c for c in TABLES["deals"].all_columns if c.choices and len(c.choices) <= 12)


def test_detected_formats_are_worded_phrase_by_phrase() -> None:
    from crmroi.web.import_words import detected_text

    ru, en = get_lang("ru"), get_lang("en")
    dates = "dates DD.MM.YYYY (ambiguous: assumed from the separator)"
    numbers = "decimal comma (detected), thousands '.'; 3 values with 万/亿 units"
    flags = "booleans (3 true, 1 false)"
    assert [detected_text(t, en) for t in (dates, numbers, flags)] == [dates, numbers, flags]
    assert detected_text(dates, ru) == "даты DD.MM.YYYY (неоднозначно: принято по разделителю)"
    assert detected_text(numbers, ru) == (
        "десятичная запятая (определено), разделитель тысяч '.'; значений с единицами 万/亿: 3"
    )
    assert detected_text(flags, get_lang("zh")) == "布尔值（是 3 个，否 1 个）"
    for code in TRANSLATED:
        for text in (dates, numbers, flags):
            assert "ambiguous" not in detected_text(text, get_lang(code))
