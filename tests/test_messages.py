"""Engine messages as ids with parameters: English unchanged, other languages worded."""

from __future__ import annotations

import re

import pytest

from crmroi.finance.sanity import BENCHMARKS, RANGES_SOURCE, _benchmark_check
from crmroi.messages import M_, Message, Num, Pct, render
from crmroi.reports.i18n import get_lang


def test_english_text_and_parameters() -> None:
    m = M_("x", "%(n)s rows, %(p)s, %(v)s", n=12345, p=Pct(0.1234, 1, True), v=Num(-3.14159, 2))
    assert str(m) == "12,345 rows, +12.3%, -3.14"
    assert m.as_json() == {
        "code": "x",
        "message": "12,345 rows, +12.3%, -3.14",
        "params": {"n": 12345, "p": Pct(0.1234, 1, True), "v": Num(-3.14159, 2)},
    }
    assert render("Dashboard", get_lang("ru")) == "Панель"
    assert render(Message("plain", "no such id"), get_lang("zh")) == "no such id"


def test_parameters_take_the_readers_digits() -> None:
    fa = get_lang("fa")
    m = M_("x", "%(n)s", n=1234)
    assert m.render(fa) == fa.number(1234) == "۱٬۲۳۴"
    assert M_("x", "%(p)s", p=Pct(-0.5, 0)).render(get_lang("ru")) == get_lang("ru").percent(
        -0.5, 0
    )


def _old_benchmark_text(subject: str, rel: float, measured: bool) -> str:
    """The sentence as the engine wrote it before messages had ids (win rate: no per-year)."""
    b = BENCHMARKS["win_rate"]
    what = "measured change" if measured else "assumed change"
    ceiling = b.sign * b.high
    if b.sign * rel < b.low:
        verdict = "more cautious than the reported range (no warning)"
    elif b.sign * rel <= b.high:
        verdict = f"within the reported range, below its ceiling of {ceiling:+.0%}"
    else:
        verdict = f"more optimistic than the reported ceiling of {ceiling:+.0%}"
        if measured:
            verdict += "; check the measurement (net of the market) before relying on it"
    return f"{subject}: {what} {rel:+.1%}: {verdict} ({b.what}; source: {b.source})"


@pytest.mark.parametrize("rel", [0.01, 0.1, 0.4])
@pytest.mark.parametrize("measured", [False, True])
def test_benchmark_sentence_is_unchanged_in_english(rel: float, measured: bool) -> None:
    check = _benchmark_check(BENCHMARKS["win_rate"], "Win more", rel, 1.0, measured=measured)
    assert check.message == _old_benchmark_text("Win more", rel, measured)
    assert check.as_dict()["message"] == check.message


@pytest.mark.parametrize("code", ["ru", "bg", "fa", "zh"])
def test_benchmark_sentence_in_each_language(code: str) -> None:
    lang = get_lang(code)
    check = _benchmark_check(BENCHMARKS["sales_per_rep"], "revenue drivers together", 0.9, 2.0)
    text = check.text.render(lang)
    assert not re.search(r"[A-Za-z]{4,}", text.replace("CRM", "")), text
    assert lang.gettext(RANGES_SOURCE) in text
    if code == "fa":
        assert "۹۰" in text  # +90% in Persian digits


def test_kpi_reasons_keep_their_english_and_are_worded_in_each_language() -> None:
    import datetime as dt

    from crmroi.kpi import reasons

    span = (dt.datetime(2023, 1, 2), dt.datetime(2026, 1, 1))
    floor = reasons.below_floor(["deals.closed_at"], span, 3.25, 12, "after", 0.25)
    assert str(floor) == (
        "deals.closed_at (2023-01-02 to 2025-12-31) cover 3.2 of 12 months of the after "
        "window, below the 25% coverage floor"
    )
    fa = floor.render(get_lang("fa"))
    assert "۱۴۰۱" in fa and "۱۴۰۴" in fa  # the span in Solar Hijri years
    assert "۲۵٪" in fa and "deals.closed_at" in fa
    assert floor.code == "below_coverage_floor"
    for code in ("ru", "bg", "zh"):
        text = reasons.whole_windows(["spend.spent_on"], span).render(get_lang(code))
        assert not re.search(r"[A-Za-z]{4,}", text.replace("spend.spent_on", "")), text


def test_said_is_plain_text_that_can_be_worded_again() -> None:
    import json
    import pickle

    from crmroi.messages import Said

    m = M_(
        "hot_lead",
        "%(p)s likely to convert (%(source)s), not contacted yet",
        p=Pct(0.8, 0),
        source="web",
    )
    said = Said(m)
    assert said == "80% likely to convert (web), not contacted yet"
    assert json.dumps({"d": said}) == json.dumps({"d": str(m)})
    ru = get_lang("ru")
    assert (
        render(said, ru)
        == f"вероятность конверсии {ru.percent(0.8, 0)} (web), контакта ещё не было"
    )
    again = pickle.loads(pickle.dumps(said))
    assert again == said and render(again, get_lang("zh")).startswith("转化可能性")
