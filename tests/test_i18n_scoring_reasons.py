"""Lead and deal scoring's reasons in the reader's language (issue 18's last English).

A reason keeps its parts (feature code, value, log-odds contribution) through the scores'
frame, the report's sections and pickling to a worker process. English stays the old
machine text (`source=referral (+0.88)`, rebuilt here from the old f-string); in ru, bg,
fa and zh the feature names, weekdays and "(none)" are worded and the numbers take the
language's digits, while values from the data stay as they are.
"""

from __future__ import annotations

import pickle
import re
from collections.abc import Iterator
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from fastapi import FastAPI
from typer.testing import CliRunner

from crmroi.improve.features import MISSING, deal_examples, lead_examples
from crmroi.improve.frames import data_date, frames_from_arrow
from crmroi.improve.reasons import FEATURE_LABELS, NUMERIC_FEATURES, WEEKDAYS, Reason
from crmroi.improve.scoring import ScoringReport, score_workspace
from crmroi.messages import Items, render
from crmroi.reports.i18n import get_lang
from tests.conftest import copy_workspace
from tests.i18n_words import english_words
from tests.web_support import login, make_app

LANGS = ("ru", "bg", "fa", "zh")
HTMX = {"accept": "text/html", "hx-request": "true"}


def old_text(field: str, value: object, effect: float) -> str:
    """The reason as `models.Reason.__str__` wrote it before it kept its parts."""
    shown = f"{value:g}" if isinstance(value, float | np.floating) else str(value)
    return f"{field}={shown} ({'+' if effect >= 0 else '-'}{abs(effect):.2f})"


@lru_cache(maxsize=1)
def demo() -> tuple[dict[str, pd.DataFrame], ScoringReport]:
    from crmroi.demo import generate_company

    frames = frames_from_arrow(generate_company(scale=0.25, seed=7).tables)
    return frames, score_workspace(frames, refit=False)


def demo_reasons() -> list[Reason]:
    out: list[Reason] = []
    for result in demo()[1].results:
        for column in ("logistic_reasons", "naive_bayes_reasons"):
            out += [r for rs in result.scores[column] for r in rs]
    return out


def test_reasons_read_as_before_in_english_and_keep_their_parts() -> None:
    cases = [
        ("source", "referral", 0.8812),
        ("owner_team", "EMEA Central", 0.03),
        ("weekday", "Thursday", 0.08),
        ("prior_orders", 0.0, -0.0712),
        ("log_prior_order_amount", np.float64(8.1234567), -0.004),
        ("account_age_days", 1234.0, 0.5),
        ("prior_won_deals", "1-3", 0.2),
    ]
    for field, value, effect in cases:
        reason = Reason(field, value, effect)
        assert reason == old_text(field, value, effect)
        assert reason.render(get_lang("en")) == reason
        assert (reason.field, reason.effect) == (field, pytest.approx(effect))
    assert Reason("prior_orders", 0.0, -0.07).value == 0.0
    reasons = demo_reasons()
    assert len(reasons) > 100 and all(isinstance(r, Reason) for r in reasons)
    for r in reasons:
        assert r == old_text(r.field, r.value, r.effect)


def test_every_feature_the_models_can_use_has_a_name() -> None:
    frames, _ = demo()
    as_of = data_date(frames)
    leads = lead_examples(frames["leads"], frames["deals"], frames["reps"], as_of)
    deals = deal_examples(
        frames["deals"], frames["accounts"], frames["reps"], frames["orders"], as_of
    )
    features = {*leads.features.columns, *deals.features.columns}
    assert features <= set(FEATURE_LABELS), features - set(FEATURE_LABELS)
    assert {"weekday", "prior_orders", "account_country"} <= features


def words_left(text: str, reason: Reason) -> list[str]:
    """English words of a worded reason beyond the value it shows from the data."""
    data = "" if isinstance(reason.value, float) else reason.value
    return english_words(text.replace(data, " ") if data not in WEEKDAYS else text)


@pytest.mark.parametrize("code", LANGS)
def test_demo_reasons_are_worded_in_each_language(code: str) -> None:
    lang = get_lang(code)
    seen = set()
    for r in demo_reasons():
        said = r.render(lang)
        assert words_left(said, r) == [], said
        assert r.field not in said or r.field not in FEATURE_LABELS
        if isinstance(r.value, str) and r.value not in WEEKDAYS and r.value != MISSING:
            assert r.value in said or r.field in NUMERIC_FEATURES  # a bin's digits are worded
        seen.add(r.field)
    assert {"source", "weekday", "owner"} <= seen


def test_numbers_take_the_languages_digits_and_signs() -> None:
    fa, ru, zh = get_lang("fa"), get_lang("ru"), get_lang("zh")
    orders = Reason("prior_orders", 3.0, -0.07)
    assert "۳" in orders.render(fa) and "۰٫۰۷" in orders.render(fa)
    assert orders.render(ru) == "заказов ранее: 3 (-0,07)"
    assert Reason("weekday", "Thursday", 0.08).render(ru) == "день создания: четверг (+0,08)"
    assert Reason("weekday", "Thursday", 0.08).render(zh) == "创建日：星期四（+0.08）"
    amount = Reason("log_prior_order_amount", 8.1234567, 0.5)
    assert "8,12346" in amount.render(ru)  # the decimals English shows (8.12346)
    assert "۱-۳" in Reason("prior_won_deals", "1-3", 0.2).render(fa)  # a naive-Bayes bin
    assert "(нет)" in Reason("segment", MISSING, 0.1).render(ru)
    country = Reason("account_country", "United Kingdom", -0.29)
    assert country.render(ru) == "страна клиента: United Kingdom (-0,29)"


def test_reasons_survive_pickling_to_a_worker_process() -> None:
    """The web app fits scores in worker processes and gets them back pickled."""
    from crmroi.web.dashboard_improve import build_section

    reason = Reason("weekday", "Thursday", 0.08)
    back = pickle.loads(pickle.dumps(reason))
    assert isinstance(back, Reason) and back == reason
    assert (back.field, back.value, back.effect) == ("weekday", "Thursday", 0.08)
    items = pickle.loads(pickle.dumps(Items([reason, Reason("prior_orders", 0.0, -0.07)])))
    assert [type(i) for i in items.items] == [Reason, Reason]
    assert items == "weekday=Thursday (+0.08), prior_orders=0 (-0.07)"
    frames, _ = demo()
    section = build_section(frames, data_date(frames), "scoring")
    copied = pickle.loads(pickle.dumps(section))
    assert copied == section
    ru = get_lang("ru")
    for got, want in zip(copied.scoring, section.scoring, strict=True):
        for a, b in zip(got.top, want.top, strict=True):
            assert render(a.reasons, ru) == render(b.reasons, ru) != str(b.reasons)
            assert all(isinstance(r, Reason) for r in a.reasons.items)  # type: ignore[attr-defined]


def test_the_report_words_the_reasons_and_keeps_english() -> None:
    from crmroi.reports.improve import fit_improvements, label_improvements

    frames, _ = demo()
    results = fit_improvements(frames)
    english = label_improvements(results, get_lang("en"))
    records = [r for s in english.scoring for r in s.top]
    assert records
    for r in records:
        items = r.reasons.items  # type: ignore[attr-defined]
        assert r.reasons == ", ".join(old_text(i.field, i.value, i.effect) for i in items)
    for code in LANGS:
        worded = label_improvements(results, get_lang(code))
        for r, en in zip((r for s in worded.scoring for r in s.top), records, strict=True):
            assert r.reasons != en.reasons
            assert not any(f"{i.field}=" in r.reasons for i in en.reasons.items)  # type: ignore[attr-defined]
            assert not any(day in r.reasons for day in WEEKDAYS), r.reasons


def test_cli_score_words_the_reasons(small_demo_folder: Path) -> None:
    from crmroi.cli import app

    runner = CliRunner()
    wide = {"COLUMNS": "400"}
    english = runner.invoke(app, ["score", str(small_demo_folder), "--lang", "en"], env=wide)
    assert english.exit_code == 0, english.output
    assert re.search(r"source=\w+ \([+-]\d\.\d\d\)", english.output)
    persian = runner.invoke(app, ["score", str(small_demo_folder), "--lang", "fa"], env=wide)
    assert persian.exit_code == 0, persian.output
    text = persian.output
    for code in FEATURE_LABELS:
        assert f"{code}=" not in text
    assert not any(day in text for day in WEEKDAYS)
    assert "منبع: " in text and "logistic" not in text


@pytest.fixture(scope="module")
def app(small_demo_folder: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[FastAPI]:
    folder = copy_workspace(small_demo_folder, tmp_path_factory.mktemp("reasons") / "ws")
    application = make_app(str(folder), simulation_runs=100, bootstrap=10)
    yield application
    application.state.crmroi.access.close()


def test_dashboard_words_the_reasons_and_the_api_gives_codes(app: FastAPI) -> None:
    viewer = login(app, "viewer")
    body: dict[str, Any] = viewer.get("/api/v1/scores").json()
    top = [r for s in body["scoring"] for r in s["top"]]
    assert top
    for r in top:
        codes = r["reason_codes"]
        assert codes and r["reasons"] == ", ".join(
            old_text(c["feature"], c["value"], c["contribution"]) for c in codes
        )
        assert all(c["feature"] in FEATURE_LABELS for c in codes)
    english = viewer.get("/dashboard/improve/scoring", headers=HTMX).text
    assert top[0]["reasons"] in english
    viewer.post("/account/language", data={"language": "ru", "next": "/dashboard"})
    page = viewer.get("/dashboard/improve/scoring", headers=HTMX).text
    assert top[0]["reasons"] not in page
    cells = re.findall(r'<td class="muted">([^<]*)</td></tr>', page)
    assert len(cells) == len(top)
    for cell in cells:
        assert not any(f"{code}=" in cell for code in FEATURE_LABELS), cell
        assert not any(day in cell for day in WEEKDAYS), cell
    assert viewer.get("/api/v1/scores").json() == body  # the API stays English


# -- the PDF's chart images: their accessible name in the report's language ------------------
@pytest.mark.parametrize("code", ["en", "fa", "zh"])
def test_pdf_chart_images_are_named_by_their_title(code: str) -> None:
    from crmroi.reports.html import render_page
    from tests.test_report_model import sample_model

    model = sample_model(code)
    svgs = {name: f"data:image/svg+xml;base64,{name}" for name in model.charts}
    page = render_page(model, "print", svgs=svgs, page_size="A4")
    alts = dict(re.findall(r'<img alt="([^"]*)" src="data:image/svg\+xml;base64,(\w+)">', page))
    names = {v: k for k, v in alts.items()}
    assert set(names) == set(model.charts) and len(names) >= 2
    lang = get_lang(code)
    assert names["cash_flow"] == lang.gettext("Cumulative cash flow and payback")
    for name, alt in names.items():
        assert alt != name and alt.strip()
        if code != "en":
            assert english_words(alt.replace("NPV", "")) == [], alt


# -- the dashboard's other section reasons and warnings: computed in English, worded later ---
@dataclass(frozen=True)
class Fit:
    """The part of a lifetime-value section the wording reads."""

    warnings: list[str]


def test_section_reasons_and_warnings_are_worded_again_on_a_page() -> None:
    import dataclasses
    import datetime as dt

    from crmroi.messages import M_, Said, Worded
    from crmroi.reports.improve import ImprovementResults, label_improvements
    from crmroi.reports.improve import Reason as SectionReason
    from crmroi.web.dashboard_view import Fmt

    detail = Said(M_("scoring_no_records", "the workspace has no leads or deals"))
    warning = Said(M_("scoring_closed_history", "the closed history"))
    results = ImprovementResults(
        as_of=dt.date(2025, 3, 7),
        scoring_reasons=[SectionReason("not enough closed history", detail=detail)],
        clv_reason=SectionReason("the workspace has no orders"),
    )
    english = label_improvements(results, get_lang("en"))
    assert english.scoring_reasons == [
        "not enough closed history (the workspace has no leads or deals)"
    ]
    assert english.clv_reason == "the workspace has no orders"
    ru = get_lang("ru")
    for said in (english.scoring_reasons[0], english.clv_reason):
        back = pickle.loads(pickle.dumps(said))
        assert isinstance(back, Worded) and back == said
        page = Fmt(ru).t(back)
        assert page != said and english_words(page) == [], page
    assert Fmt(ru).t(english.clv_reason) == label_improvements(results, ru).clv_reason
    fitted = Fit(warnings=[warning])  # a lifetime-value fit's warning
    worded = label_improvements(dataclasses.replace(results, clv=fitted), get_lang("en"))
    assert worded.clv.warnings == ["the closed history"]
    assert Fmt(ru).t(worded.clv.warnings[0]) == "закрытая история"
    assert Fmt(ru).t(pickle.loads(pickle.dumps(worded.clv.warnings[0]))) == "закрытая история"


# -- the attribution notes' figures: English as the old text, the reader's digits elsewhere ---
def test_attribution_note_figures_in_each_language() -> None:
    from crmroi.attribution import notes
    from crmroi.messages import Message

    placebo = notes.placebo(6, -23337.2, 0.4)
    old = "placebo: go-live moved 6 months earlier on the months before it, effect -2.334e+04, "
    assert placebo == old + "randomisation p = 0.400"
    assert render(placebo.message, get_lang("en")) == placebo  # the English report's text
    ru = render(placebo.message, get_lang("ru"))
    assert "-23\xa0340" in ru and "0,400" in ru and "2.334e" not in ru, ru
    fa = render(placebo.message, get_lang("fa"))
    assert "۶" in fa and "۲۳٬۳۴۰" in fa and "۰٫۴۰۰" in fa and not re.search("[0-9]", fa), fa
    interval = notes.interval(5040, 7, None)
    assert "over 5040 orders" in interval and "7 teams (7 clusters)" in interval
    assert "5\xa0040" in render(interval.message, get_lang("ru"))
    assert Message.from_record(placebo.message.to_record()) == placebo.message
    retention = notes.drifted(0.0123)
    assert "placebo p = 0.012)" in retention
    assert "۰٫۰۱۲" in render(retention.message, get_lang("fa"))


# -- the "(none)" of a missing group, and the CLI's attribution method -------------------------
def test_a_missing_groups_none_is_worded_and_data_values_are_not() -> None:
    from crmroi.cli.language import Speaker
    from crmroi.web.dashboard_view import Fmt

    for code, none in (("ru", "(нет)"), ("fa", "(هیچ)"), ("zh", "（无）")):
        lang = get_lang(code)
        assert lang.data_value("(none)") == none and lang.filters()["value"]("SMB") == "SMB"
        assert Speaker(code).value("(none)") == none and Speaker(code).value("web") == "web"
        assert Fmt(lang).text(None, "(none)") == none and Fmt(lang).text("EMEA") == "EMEA"
    assert Speaker("en").value("(none)") == "(none)" and Fmt().text("(none)") == "(none)"
    assert get_lang("en").data_value("(none)") == "(none)"


def test_cli_attribute_words_the_method_figures_and_separators(
    small_demo_folder: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from crmroi.cli import app
    from crmroi.cli.app import console
    from crmroi.reports.labels import METHOD_LABELS

    # an earlier test in this process may have left the shared console at its own width
    monkeypatch.setattr(console, "_width", 1000)

    runner = CliRunner()
    args = ["attribute", str(small_demo_folder), "--kpi", "win_rate", "--lang"]
    wide = {"COLUMNS": "1000"}
    english = runner.invoke(app, [*args, "en"], env=wide)
    assert english.exit_code == 0, english.output
    method = re.search(r"│ win_rate\s+│ (\w+)", english.output)
    assert method and method.group(1) in METHOD_LABELS
    # p is 1.000 where no reordering is as extreme: either way, English figures
    assert re.search(r"randomisation p = [01]\.\d{3}", english.output), english.output
    assert "; " in english.output
    persian = runner.invoke(app, [*args, "fa"], env=wide)
    assert persian.exit_code == 0, persian.output
    fa = get_lang("fa")
    assert fa.gettext(METHOD_LABELS[method.group(1)]) in persian.output
    assert not re.search(r"p = [01]\.", persian.output) and "؛ " in persian.output
    assert "; " not in persian.output.replace("(--exposure", "")
