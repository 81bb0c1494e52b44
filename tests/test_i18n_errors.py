"""Errors in the reader's language: the case editor's validation errors (a stable code
each, in the page and the API) and the CLI's `error:` lines; English text unchanged."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from pydantic import ValidationError

from crmroi.cli import argv_language, error_line
from crmroi.errors import ConfigurationError, InputFileError, WorkspaceError, error_code
from crmroi.finance.case import Case, case_from_text, load_case
from crmroi.finance.case_errors import case_error_messages, readable_errors
from crmroi.reports.i18n import get_lang
from crmroi.store import Store
from tests.conftest import copy_workspace
from tests.web_support import login, make_app

CYRILLIC = re.compile(r"[\u0400-\u04FF]")
HAN = re.compile(r"[\u4e00-\u9fff]")
PERSIAN = re.compile(r"[\u0600-\u06FF]")

INVALID: list[dict[str, Any]] = [
    {
        "name": "x",
        "horizon_months": 0,
        "discount_rate": 2,
        "users": "abc",
        "costs": [{"category": "licence", "kind": "weird", "amount": "x"}],
        "benefits": [{"kind": "custom", "name": "b", "change": {"low": 3, "likely": 1, "high": 2}}],
        "bogus": 1,
    },
    {
        "name": "x",
        "costs": [{"category": "licence", "kind": "one_time", "amount": 5, "currency": "US"}],
        "benefits": [{"kind": "win_rate", "change": "abc"}],
        "start": "2024-13-01",
        "adoption": {"start": 1.5, "months": 1.5},
    },
    {"costs": [{"kind": "one_time"}], "benefits": [{"kind": "nope"}], "users": True},
]


def _errors(data: dict[str, Any]) -> ValidationError:
    with pytest.raises(ValidationError) as caught:
        Case.model_validate(data)
    return caught.value


@pytest.mark.parametrize("data", INVALID)
def test_case_errors_keep_pydantic_english_and_gain_codes(data: dict[str, Any]) -> None:
    exc = _errors(data)
    found = case_error_messages(exc)
    english = [(tuple(e["loc"]), e["msg"]) for e in readable_errors(exc).errors()]
    assert [(loc, str(m)) for loc, m in found] == english
    assert all(m.code.startswith(("case_", "range_")) for _, m in found)
    pydantic_msgs = {e["msg"] for e in exc.errors()}
    for _, message in found:  # a pydantic error keeps pydantic's own sentence in English
        if message.code not in ("case_expected",):
            assert str(message) in pydantic_msgs
    russian = [m.render(get_lang("ru")) for _, m in found]
    translated = [r for r in russian if CYRILLIC.search(r)]
    assert len(translated) == len(russian), russian


def test_merged_union_error_and_range_order_in_persian_and_chinese() -> None:
    found = dict(case_error_messages(_errors(INVALID[0])))
    expected = found[("costs", 0, "amount")]
    assert expected.code == "case_expected"
    assert str(expected) == "expected a number, a {low, likely, high} range or 'actual'"
    assert expected.render(get_lang("zh")) == "应为数字、{low, likely, high} 区间或'actual'"
    ranged = found[("benefits", 0, "change")]
    assert ranged.code == "case_value_error"
    assert ranged.params["error"].code == "range_order"
    persian = ranged.render(get_lang("fa"))
    assert persian.startswith("مقدار نامعتبر: بازه باید low <= likely <= high باشد")


def test_case_file_errors_name_the_line_and_carry_the_problems(tmp_path: Path) -> None:
    text = "name: x\nhorizon_months: 999\nusers: 2\ncosts: []\nbenefits: []\n"
    with pytest.raises(ConfigurationError) as caught:
        case_from_text(text, "c.yaml")
    exc = caught.value
    assert str(exc) == "c.yaml line 2: horizon_months: Input should be less than or equal to 240"
    assert error_code(exc) == "case_invalid"
    russian = exc.args[0].render(get_lang("ru"))
    assert russian == "c.yaml, строка 2: horizon_months: Значение должно быть не больше 240"
    rows = "- {kind: custom, name: a, change: 1}\n- {kind: custom, name: a, change: 2}\n"
    twice = "name: x\nbenefits:\n" + rows
    with pytest.raises(ConfigurationError, match=r"c.yaml line 4: benefits.1: benefit name 'a'"):
        case_from_text(twice, "c.yaml")
    with pytest.raises(InputFileError) as unreadable:
        load_case(tmp_path / "missing.yaml")
    assert error_code(unreadable.value) == "case_file_unreadable"
    assert str(unreadable.value).startswith("missing.yaml: cannot read the case file (")


@pytest.fixture
def app(small_demo_folder: Path, tmp_path: Path) -> Iterator[FastAPI]:
    folder = copy_workspace(small_demo_folder, tmp_path / "ws")
    application = make_app(str(folder), simulation_runs=50, bootstrap=0)
    yield application
    application.state.crmroi.access.close()


def test_case_editor_errors_in_the_page_language_with_codes(app: FastAPI) -> None:
    from crmroi.web.case_forms import form_from_text, form_items

    analyst = login(app, "analyst")
    text = analyst.get("/api/v1/cases/default").json()["yaml"]
    form = dict(form_items(form_from_text(text)))
    form |= {"costs.0.amount~likely": "lots", "discount_rate": "2"}
    headers = {"accept": "text/html", "accept-language": "bg"}
    page = analyst.post("/cases/default/preview", data=form, headers=headers).text
    found = re.search(r'id="err-f-discount_rate"[^>]*><span data-code="([a-z_]+)">([^<]+)<', page)
    assert found and found.groups() == (
        "case_less_than_equal",
        "Стойността трябва да е най-много 1",
    )
    amount = re.search(
        r'id="err-f-costs-0-amount"[^>]*><span data-code="case_expected">([^<]+)<', page
    )
    assert amount and amount.group(1).startswith("очаква се число")
    assert "Поправете полетата, отбелязани в червено" in page
    saved = analyst.post("/cases/default", data={**form, "action": "save"}, headers=headers)
    assert saved.status_code == 400 and "Нищо не е запазено" in saved.text


def test_the_api_answers_each_case_problem_with_its_code(app: FastAPI) -> None:
    analyst = login(app, "analyst")
    body = "name: x\nhorizon_months: 999\ndiscount_rate: abc\nusers: 2\n"
    answer = analyst.put(
        "/api/v1/cases/broken", content=body, headers={"content-type": "application/yaml"}
    )
    assert answer.status_code == 422
    doc = answer.json()
    assert doc["code"] == "case_invalid"
    assert doc["detail"].startswith("broken.yaml line 2: horizon_months: Input should be")
    codes = [(e["path"], e["line"], e["code"]) for e in doc["errors"]]
    assert codes == [
        ("horizon_months", 2, "case_less_than_equal"),
        ("discount_rate", 3, "case_float_parsing"),
    ]
    assert doc["errors"][0]["params"] == {"le": "240"}


def test_cli_error_lines_speak_the_language(tmp_path: Path) -> None:
    with pytest.raises(WorkspaceError) as caught:
        Store.open(tmp_path / "none")
    exc = caught.value
    english = (
        f"[bold red]error:[/] {tmp_path / 'none'}: not a crmroi workspace (no workspace.duckdb); "
        "create one with `crmroi demo` or `crmroi import`"
    )
    assert error_line(exc, "en") == english
    assert error_line(exc, "ru").startswith("[bold red]ошибка:[/] ")
    assert "не рабочая область crmroi" in error_line(exc, "ru")
    assert error_line(ConfigurationError("plain"), "zh") == "[bold red]错误：[/] plain"
    assert argv_language(["kpis", "ws", "--lang", "fa"]) == "fa"
    assert argv_language(["kpis", "--lang=zh", "ws"]) == "zh"
    assert argv_language(["kpis", "--lang", "xx"]) is None
    assert argv_language(["kpis", "--", "--lang", "ru"]) is None


def _run(*args: str | Path, locale: str = "C.UTF-8") -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k not in ("LANGUAGE", "LC_MESSAGES")}
    env.update({"COLUMNS": "200", "NO_COLOR": "1", "LC_ALL": locale})
    return subprocess.run(
        [sys.executable, "-m", "crmroi", *map(str, args)],
        capture_output=True, text=True, env=env, timeout=300, check=False,
    )  # fmt: skip


def test_error_line_of_a_command_in_persian_and_by_locale(tmp_path: Path) -> None:
    english = _run("kpis", tmp_path / "nothing")
    assert english.returncode == 1
    assert english.stderr.startswith(f"error: {tmp_path / 'nothing'}: not a crmroi workspace")
    persian = _run("kpis", tmp_path / "nothing", "--lang", "fa")
    assert persian.returncode == 1 and persian.stderr.startswith("خطا: ")
    assert "فضای کاری crmroi نیست" in persian.stderr
    chinese = _run("roi", tmp_path / "none.yaml", locale="zh_CN.UTF-8")
    assert chinese.returncode == 1 and chinese.stderr.startswith(
        "错误： none.yaml: 无法读取业务案例文件"
    )
    date = _run("kpis", tmp_path / "nothing", "--go-live", "2024-13-40", "--lang", "ru")
    assert date.returncode == 1 and "не дата (ГГГГ-ММ-ДД)" in date.stderr, date.stderr


def test_serve_start_up_lines_in_russian(
    small_demo_folder: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import uvicorn
    from typer.testing import CliRunner

    from crmroi.cli import app as cli_app

    folder = copy_workspace(small_demo_folder, tmp_path / "ws")
    monkeypatch.setattr(uvicorn, "run", lambda *a, **k: None)
    monkeypatch.delenv("CRMROI_ADMIN_PASSWORD", raising=False)
    monkeypatch.setenv("COLUMNS", "300")
    out = CliRunner().invoke(cli_app, ["serve", str(folder), "--lang", "ru"]).output
    assert "веб-приложение crmroi на http://127.0.0.1:8000/ (Ctrl+C останавливает его)" in out
    assert "Ctrl+C stops" not in out
    english = CliRunner().invoke(cli_app, ["serve", str(folder), "--lang", "en"]).output
    assert english.strip().endswith("crmroi web app on http://127.0.0.1:8000/ (Ctrl+C stops it)")


def test_roi_actuals_in_russian_and_chinese(small_demo_folder: Path) -> None:
    case = small_demo_folder / "case.yaml"
    english = _run("roi", case, "--workspace", small_demo_folder, "--actuals").stdout
    phrases = (
        "Plan versus actual, months 0-",
        "Re-forecast from actuals: NPV ",
        "Adoption: share of users",
        "With the measured adoption, payback (months): ",
        "Adoption by week: reps working in the CRM / reps employed",
        "Records: deals and leads owned",
        "Fields the KPIs need, share filled: ",
        "People ROI (baseline vs after go-live)",
    )
    for phrase in phrases:
        assert phrase in english, phrase
    russian = _run("roi", case, "--workspace", small_demo_folder, "--actuals", "--lang", "ru")
    assert russian.returncode == 0, russian.stderr
    for phrase in (*phrases, "Open deals with a next activity", "Measured (basis", "records per"):
        assert phrase not in russian.stdout, phrase
    assert "План и факт, месяцы 0–" in russian.stdout and "ROI персонала" in russian.stdout
    chinese = _run("roi", case, "--workspace", small_demo_folder, "--actuals", "--lang", "zh")
    assert "计划与实际" in chinese.stdout and "按实测采用率" in chinese.stdout


def test_roi_ways_tco_and_tornado_in_persian(small_demo_folder: Path) -> None:
    case = small_demo_folder / "case.yaml"
    args = ("roi", case, "--simulate", "100")
    english = _run(*args).stdout
    for phrase in ("net ROI", "benefit-cost ratio", "internal labour", "(the case's headline"):
        assert phrase in english, phrase
    persian = _run(*args, "--lang", "fa").stdout
    for phrase in ("net ROI", "net roi", "benefit-cost ratio", "internal labour", "│ people"):
        assert phrase not in persian, phrase
    assert "ROI خالص" in persian and "نیروی انسانی داخلی" in persian
    tornado = [line for line in persian.splitlines() if ".change" in line or ".amount" in line]
    assert tornado and not any(re.search(r"[۰-۹][,.][۰-۹]", line) for line in tornado)


def test_clv_fit_warnings_in_chinese_english_unchanged() -> None:
    import numpy as np

    from crmroi.improve.spend import _mean_spend
    from crmroi.messages import M_, Said

    reason = M_("fit_no_maximum", "the optimiser found no finite maximum")
    fit = _mean_spend(np.array([1.0, 2.0]), reason)
    assert isinstance(fit.warning, Said)
    assert fit.warning == (
        "spend per purchase: the Gamma-Gamma model could not be fitted (the optimiser found "
        "no finite maximum); each repeat buyer's expected spend is their own mean, other "
        "customers get the mean over repeat buyers"
    )
    chinese = fit.warning.message.render(get_lang("zh"))
    assert chinese.startswith("每次购买的消费：无法拟合 Gamma-Gamma 模型（优化器未找到")


def test_case_tables_and_not_found_page_in_the_page_language(app: FastAPI) -> None:
    viewer = login(app, "viewer")
    english = viewer.get("/cases", headers={"accept": "text/html"}).text
    cells = re.findall(r'<td class="num">([^<]*)</td>', english)
    assert cells and re.fullmatch(r"-?[\d,]+ USD", cells[1]) and cells[0].endswith("%")
    persian = viewer.get("/cases", headers={"accept": "text/html", "accept-language": "fa"})
    cells = re.findall(r'<td class="num">([^<]*)</td>', persian.text)
    assert cells and not re.search(r"[0-9]", "".join(cells)) and "٪" in cells[0]
    page = viewer.get("/cases/nowhere", headers={"accept": "text/html", "accept-language": "zh"})
    assert page.status_code == 404 and "没有名为 &#39;nowhere&#39; 的已保存案例" in page.text
    api = viewer.get("/cases/nowhere")
    assert api.json() == {"detail": "no saved case called 'nowhere'", "code": "not_found"}
