"""The time series' notes and the reasons a KPI is not attributed are messages: English
exactly as the f-strings wrote it (the reference below), a stable code beside the text
in JSON, and every note and reason worded in ru, bg, fa and zh: in the report, the CLI
(`attribute --lang`) and the case page."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from crmroi.attribution import notes, reasons
from crmroi.attribution.its import interrupted_time_series
from crmroi.attribution.workspace import Unavailable, attribute_workspace
from crmroi.messages import Said, code_of, render
from crmroi.reports.i18n import get_lang
from crmroi.store import Store
from tests.conftest import copy_workspace
from tests.i18n_words import english_words
from tests.test_catalogues import TRANSLATED
from tests.test_i18n_cli import run

# names and notation a translated note may keep: KPI and covariate names, regression
# terms, p and t of the statistics
NAMES = {"win_rate", "industry_sales", "shock", "const", "season_sin", "season_cos", "t", "p"}


def examples() -> dict[str, str]:
    """Each message with the English the f-strings wrote before."""
    name, idle, stop = "win_rate", ["shock"], pd.Timestamp("2025-01-01")
    chosen, n_before, h, df = ["const", "industry_sales"], 18, 12, 14.0
    return {
        Said(notes.ITS_LEVELS): (
            "the KPI is not positive in every month, so it is modelled in levels"
        ),
        notes.its_idle(idle): (
            f"{', '.join(idle)} did not vary before go-live, so the months before it cannot "
            "show what they do to the KPI; left out of the model"
        ),
        notes.its_cut(stop.date()): (
            f"months from {stop:%Y-%m} on left out: a covariate that did not vary before "
            "go-live moves then, and what that does to the KPI cannot be learned from "
            "months without the CRM"
        ),
        notes.its_collinear(["a", "b"]): "a, b left out: collinear with the rest before go-live",
        notes.its_too_few_for("season_cos"): (
            "season_cos left out: too few months before go-live for it"
        ),
        notes.its_fit(n_before, True, chosen, h, df): (
            f"counterfactual learned from the {n_before} months before go-live only "
            f"({'log of the KPI'} on {', '.join(chosen)}; OLS), "
            f"projected over {h} months after; 95% t interval with {df:.0f} degrees "
            "of freedom"
        ),
        notes.its_fit(n_before, False, chosen, h, df): (
            f"counterfactual learned from the {n_before} months before go-live only "
            f"({'the KPI'} on {', '.join(chosen)}; OLS), "
            f"projected over {h} months after; 95% t interval with {df:.0f} degrees "
            "of freedom"
        ),
        Said(reasons.its_short(name, 6)): (
            f"{name}: need at least {6} months before go-live and one after"
        ),
        Said(reasons.its_no_counterfactual(name, idle)): (
            f"{name}: the market index's {', '.join(idle)} moved in the go-live month "
            "and never varied before it, so no month after go-live has a counterfactual"
        ),
        Said(reasons.its_too_few(name)): f"{name}: too few months before go-live to fit the series",
        Said(reasons.its_not_finite(name)): (
            f"{name}: the time-series fit did not give a finite effect"
        ),
        Said(reasons.naive_short(name)): (
            f"{name}: need at least two months before and after go-live"
        ),
        Said(reasons.no_go_live(name)): f"{name}: no go-live date is known",
        Said(reasons.units_without_go_live(name, ["T1", "T2"])): (
            f"{name}: no go-live date for units T1, T2"
        ),
        Said(reasons.no_comparison(name)): (
            f"{name}: no live month has a team still without the CRM to compare with; "
            "a staggered comparison needs teams not yet live"
        ),
        Said(reasons.too_few_orders(name, 2, 2)): (
            f"{name}: only {2} orders of go-live over {2} teams: "
            "too few to bound a 95% interval by randomisation inference"
        ),
        Said(reasons.panel_empty(name)): f"{name}: no observations in the KPI panel",
        Said(reasons.supplied_short(name, "board", 4, 6)): (
            f"{name}: the baseline is supplied (source: board) and gives {4} months before "
            f"go-live; the time series needs {6}"
        ),
        Said(reasons.NO_PANEL): "no monthly panel (no data, or a KPI over a window)",
    }


def test_english_is_unchanged_and_every_message_has_a_code() -> None:
    for said, english in examples().items():
        assert isinstance(said, Said) and said == english
        assert (code_of(said) or "").startswith("attribution_")


def test_every_note_and_reason_is_worded_in_each_language() -> None:
    allowed = NAMES | {"a", "b", "T1", "T2", "board", "its"}
    for code in TRANSLATED:
        lang = get_lang(code)
        for said in examples():
            text = render(said, lang)
            assert [w for w in english_words(text) if w not in allowed] == [], (code, text)
    fa = render(notes.its_cut(dt.date(2025, 1, 1)), get_lang("fa"))
    assert "2025-01" not in fa and "۱۴۰۳" in fa  # a Solar Hijri month


def _series() -> tuple[pd.DataFrame, pd.DataFrame]:
    """A KPI over 30 months, a market index and a covariate that moves only after go-live."""
    periods = pd.date_range("2023-01-01", periods=30, freq="MS")
    rng = np.random.default_rng(8)
    market = 100.0 + np.cumsum(rng.normal(0.0, 3.0, periods.size))
    value = 20.0 + 0.5 * market + rng.normal(0.0, 2.0, periods.size)
    covariates = pd.DataFrame(
        {
            "period": periods,
            "industry_sales": market,
            "shock": np.where(pd.Timestamp("2025-01-01") <= periods, -1.0, 0.0),
        }
    )
    return pd.DataFrame({"period": periods, "value": value}), covariates


def test_a_russian_time_series_result_has_no_english_note() -> None:
    series, covariates = _series()
    result = interrupted_time_series(
        series, dt.date(2024, 7, 1), name="win_rate", covariates=covariates
    )
    assert len(result.notes) >= 4 and all(code_of(n) for n in result.notes)
    codes = {code_of(n) for n in result.notes}
    assert {"attribution_its_idle", "attribution_its_cut", "attribution_its_fit"} <= codes
    for code in TRANSLATED:
        for note in result.notes:
            text = render(note, get_lang(code))
            assert [w for w in english_words(text) if w not in NAMES] == [], (code, text)
    doc = result.to_json()
    assert doc["note_codes"] == [code_of(n) for n in result.notes]
    assert doc["notes"][0].startswith("covariates: industry_sales, shock")


def test_unavailable_keeps_its_reason_message(small_demo_folder: Path) -> None:
    with Store.open(small_demo_folder) as store:
        [result] = attribute_workspace(store, kpis=["cost_per_lead"])
    assert isinstance(result, Unavailable) and code_of(result.reason) == "attribution_no_panel"
    assert render(result.reason, get_lang("ru")) == (
        "нет месячной панели (нет данных или KPI считается за окно)"
    )


@pytest.fixture(scope="module")
def market_workspace(small_demo_folder: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The small demo with a market index whose second column only moves after go-live."""
    folder = tmp_path_factory.mktemp("its_i18n")
    ws = copy_workspace(small_demo_folder, folder / "ws")
    rng = np.random.default_rng(3)
    lines = ["month,industry_sales,shock"]
    for i, month in enumerate(pd.date_range("2021-01-01", "2026-12-01", freq="MS")):
        shock = -1.0 if month >= pd.Timestamp("2025-06-01") else 0.0
        lines.append(f"{month:%Y-%m-%d},{100 + i + rng.normal(0, 2):.3f},{shock}")
    (folder / "market.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")
    return ws


def test_attribute_in_russian_has_no_english_note(market_workspace: Path) -> None:
    index = market_workspace.parent / "market.csv"
    args = ("attribute", market_workspace, "--kpi", "win_rate", "--kpi", "cost_per_lead")
    args += ("--method", "its", "--go-live", "2024-01-01", "--market-index", str(index))
    english = json.loads(run(*args, "--format", "json").stdout)
    its = next(r for r in english if r["name"] == "win_rate")
    assert its["method"] == "its", its
    assert any(n.startswith("counterfactual learned from") for n in its["notes"])
    assert "attribution_its_fit" in its["note_codes"]
    assert next(r for r in english if r["name"] == "cost_per_lead")["reason_code"]
    russian = run(*args, "--lang", "ru").stdout
    for words in ("counterfactual", "covariates", "did not vary", "monthly panel", "months"):
        assert words not in russian, words
    assert "контрфактический уровень" in russian and "нет месячной панели" in russian


def test_a_case_measuring_an_unattributed_kpi_says_why_in_the_readers_language() -> None:
    from crmroi.casework.sources import AttributedChange
    from crmroi.errors import ConfigurationError, error_code
    from crmroi.finance.case import parse_case
    from crmroi.finance.inputs import to_measured
    from crmroi.messages import said_of

    benefit = {
        "kind": "win_rate", "opportunities_per_month": 100, "win_rate": 0.25,
        "avg_deal_size": 10000, "gross_margin": 0.4, "change": "measured",
    }  # fmt: skip
    case = parse_case({"name": "m", "benefits": [benefit], "costs": []})
    why = Said(reasons.no_comparison("win_rate"))
    changes = {"win_rate": AttributedChange("win_rate", *[None] * 5, False, why)}
    with pytest.raises(ConfigurationError) as caught:
        to_measured(case, changes)  # type: ignore[arg-type]
    assert str(caught.value).endswith(f": cannot measure 'win_rate' on this workspace ({why})")
    assert error_code(caught.value) == "case_cannot_measure"
    russian = render(said_of(caught.value), get_lang("ru"))
    assert "не удаётся измерить" in russian and "ни в одном месяце" in russian
    assert english_words(russian.replace("'win_rate'", "")) == []


def test_request_errors_keep_english_and_read_in_each_language() -> None:
    from crmroi.kpi import reasons as kpi_reasons
    from crmroi.kpi.exposure import check_exposure

    cases = [
        (reasons.unknown_kpis(["happiness"]), "unknown KPI happiness; see `crmroi kpis`"),
        (reasons.market_index_number(4, "cpi"), "row 4, column 'cpi': not a number"),
        (
            kpi_reasons.one_of("--by", ("team", "rep"), "x"),
            "--by must be one of team, rep, not 'x'",
        ),
        (
            kpi_reasons.unknown_kpi("happiness", ["win_rate"]),
            "unknown KPI 'happiness'; KPIs are: win_rate",
        ),
    ]
    for message, english in cases:
        assert str(message) == english
        for code in TRANSLATED:
            text = render(message, get_lang(code))
            left = [
                w for w in english_words(text) if w not in {"happiness", "cpi", "x", "team", "rep"}
            ]
            assert left == [], text
    with pytest.raises(Exception) as caught:
        check_exposure("sometimes")
    assert code_of(caught.value.args[0]) == "kpi_option_choice"
