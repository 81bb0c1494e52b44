"""The last English left in ru, bg, fa and zh outputs, one group per kind of text:
mapping-YAML validation errors, a failed import's status and the rolled-back import,
literal texts of the web routes, the CLI's usage errors, clv inputs and list separators,
the charts' accessible name, and the API's codes beside its texts.

Each group checks the English text is what it was (against the old wording, rebuilt
here independently) and that another language leaves no English word beyond names,
codes and numbers (`tests.i18n_words`).
"""

from __future__ import annotations

import datetime as dt
import json
import re
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

import pyarrow as pa
import pytest
from fastapi import FastAPI

from crmroi.errors import ImportAborted, MappingError
from crmroi.finance.inputs import ClvInputs
from crmroi.ingest.mapping import MappingFile, parse_mapping
from crmroi.ingest.presets import __file__ as presets_init
from crmroi.messages import Items, Message, render
from crmroi.reports.i18n import get_lang
from crmroi.store import Store
from crmroi.store.batch_status import failed_message, failed_status, status_text
from crmroi.store.schema import IMPORT_BATCHES, TABLES
from crmroi.store.undo import list_batches
from crmroi.yaml_lines import describe_validation_error, load_yaml_with_lines
from tests.conftest import copy_workspace
from tests.i18n_words import english_words
from tests.web_support import login, make_app

LANGS = ("ru", "bg", "fa", "zh")
BAD_MAPPING = """source_system: x
tables:
  - entity: deals
    colums: {deal_id: a}
  - entity: deals
    missing_id: 5
    csv: {header_row: zero}
    columns: {deal_id: {column: a, coalesce: true, join: " "}}
  - entity: dealz
"""
CODES = {"csv", "header_row", "missing_id", "refuse", "row_hash", "coalesce", "join", "dealz"}
CODES |= set(TABLES) | {c.name for t in TABLES.values() for c in t.columns}  # table codes


def english_in(text: str, allowed: set[str] = CODES) -> list[str]:
    """English words of `text` beyond codes, names in quotes and the file's keys."""
    text = re.sub(r"'[^']*'", " ", text)  # quoted values and names: 'row_hash', 'dealz'
    return [w for w in english_words(text) if w not in allowed and not w.endswith(".yaml")]


# -- mapping YAML ---------------------------------------------------------------------
def _mapping_error(text: str) -> Message:
    with pytest.raises(MappingError) as caught:
        parse_mapping(text, "bad.yaml")
    message = caught.value.args[0]
    assert isinstance(message, Message)
    return message


def test_mapping_errors_keep_their_english_and_codes() -> None:
    from pydantic import ValidationError

    message = _mapping_error(BAD_MAPPING)
    data, index = load_yaml_with_lines(BAD_MAPPING, "bad.yaml")
    with pytest.raises(ValidationError) as caught:
        MappingFile.model_validate(data)
    assert str(message) == describe_validation_error(caught.value, index, "bad.yaml")
    assert message.code == "mapping_invalid"
    from crmroi.finance.case_errors import problem_list

    codes = [p["code"] for p in problem_list(message)]
    assert "mapping_extra_forbidden" in codes and "mapping_int_parsing" in codes
    assert "mapping_literal_error" in codes and "mapping_value_error" in codes
    assert "Input should be 'refuse' or 'row_hash'" in str(message)


@pytest.mark.parametrize("code", LANGS)
def test_mapping_errors_in_each_language(code: str) -> None:
    lang = get_lang(code)
    for text in (
        BAD_MAPPING,
        "source_system: x\ntables:\n  - entity: dealz\n",
        "source_system: x\ntables:\n  - entity: deals\n    columns: {nope: a}\n",
        "tables: 5\n",
        "source_system: x\ntables:\n  - entity: deals\n    columns:\n"
        "      deal_id: {column: a, pattern: '(a)\\1'}\n",
        "source_system: x\ntables:\n  - entity: deals\n"
        "    columns: {deal_id: {column: a, strict: true}}\n",
    ):
        worded = render(_mapping_error(text), lang)
        keys = {"nope", "source_system", "tables", "pattern", "strict", "map"}  # YAML keys
        left = english_in(worded, CODES | keys)
        assert left == [], (code, worded)
    worded = render(_mapping_error("source_system: x\ntables:\n  - entity: dealz\n"), lang)
    assert "deals" in worded and "crm_users" in worded  # the entities, as codes


def test_mapping_errors_in_the_cli_and_the_wizard(small_demo_folder: Path, tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text(BAD_MAPPING, encoding="utf-8")
    export = tmp_path / "deals.csv"
    export.write_text("deal_id,amount\nx1,1\n", encoding="utf-8")
    folder = copy_workspace(small_demo_folder, tmp_path / "ws")
    args = ("import", folder, export, "--source", "generic", "--mapping", bad)
    english = cli(*args, code=1).stderr
    assert "Extra inputs are not permitted" in english
    for code in ("ru", "fa"):
        err = cli(*args, "--lang", code, code=1).stderr
        assert "error:" not in err and english_in(err, CODES | {"colums"}) == [], err
    app = make_app(str(folder), simulation_runs=50, bootstrap=10)
    try:
        analyst = login(app, "analyst")
        analyst.post("/account/language", data={"language": "ru", "next": "/imports"})
        page = analyst.post(
            "/imports/upload",
            files=[
                ("files", ("deals.csv", b"deal_id,amount\nx1,1\n", "text/csv")),
                ("mapping", ("mapping.yaml", BAD_MAPPING.encode(), "application/x-yaml")),
            ],
            data={"source": "generic"},
            headers={"accept": "text/html"},
        )
        assert page.status_code == 400
        text = visible(page.text)
        assert "строка 4" in text and english_in(text, CODES | {"colums"}) == [], text
        api = analyst.post(
            "/api/v1/imports",
            files=[
                ("files", ("deals.csv", b"deal_id,amount\nx1,1\n", "text/csv")),
                ("mapping", ("mapping.yaml", BAD_MAPPING.encode(), "application/x-yaml")),
            ],
        )
        assert api.status_code == 400 and api.json()["code"] == "mapping_invalid"
        assert "Extra inputs are not permitted" in api.json()["detail"]
    finally:
        app.state.crmroi.access.close()


# -- a failed import's status, the rolled-back import --------------------------------------
def test_failed_status_is_stored_as_a_message_and_old_rows_stay_readable() -> None:
    reason = Message("input_empty", "the file is empty")
    stored = failed_status(reason)
    assert status_text(stored) == "failed: the file is empty"  # the API's text, as before
    ru = get_lang("ru")
    assert render(failed_message(stored), ru) == "ошибка: файл пуст"  # type: ignore[arg-type]
    old = "failed: something the database said"
    assert status_text(old) == old and failed_status("plain") == "failed: plain"
    assert render(failed_message(old), ru) == "ошибка: something the database said"  # type: ignore[arg-type]
    assert failed_message("loaded") is None and status_text("loaded") == "loaded"
    assert failed_status("x" * 600) == ("failed: " + "x" * 600)[:500]


def _append_batch(store: Store, status: str) -> None:
    row = {name: None for name in IMPORT_BATCHES.names}
    row |= {"batch_id": "old-1", "source_system": "old", "files": "[]", "status": status}
    row["started_at"] = dt.datetime(2020, 1, 1)
    with store.transaction() as tx:
        tx.append("import_batches", pa.Table.from_pylist([row], schema=IMPORT_BATCHES))


def test_history_words_failures_and_the_rollback(
    small_demo_folder: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import crmroi.ingest.pipeline as pipeline
    from crmroi.ingest.presets import load_preset

    folder = copy_workspace(small_demo_folder, tmp_path / "ws")
    export = tmp_path / "bad.csv"
    export.write_text("deal_id,amount\nx1,abc\n", encoding="utf-8")
    assert cli("import", folder, export, "--source", "salesforce", code=1)
    good = tmp_path / "Opportunity.csv"
    good.write_text("Id,Name,Amount,CloseDate,StageName,CreatedDate,IsWon,IsClosed\n"
                    "006000000000001,A,10,2024-01-01,Closed Won,2023-12-01,true,true\n",
                    encoding="utf-8")  # fmt: skip

    def refuse(*args: object, **kwargs: object) -> None:
        raise RuntimeError("disk full")

    monkeypatch.setattr(pipeline, "log_batch_table", refuse)
    with Store.open(folder) as store, pytest.raises(ImportAborted) as caught:
        pipeline.import_files(store, [good], mapping=load_preset("salesforce"))
    aborted = caught.value.args[0]
    assert isinstance(aborted, Message) and aborted.code == "import_aborted"
    assert str(caught.value) == "import rolled back, nothing was written: disk full"
    assert render(aborted, get_lang("ru")) == "импорт отменён, ничего не записано: disk full"
    with Store.open(folder) as store:
        _append_batch(store, "failed: an old reason")
        batches = list_batches(store)
    failed = [b for b in batches if b.status.startswith("failed")]
    assert len(failed) == 3
    assert failed[-1].status == "failed: an old reason"
    refused = next(b for b in failed if "bad.csv" in b.status)
    assert refused.status.startswith("failed: bad.csv: columns do not match any salesforce")
    assert (
        refused.failure is not None and "mapping_no_export_matches" in refused.failure.to_record()
    )
    database = next(b for b in failed if "disk full" in b.status)
    assert database.status == "failed: disk full"
    labels = " ".join(t.label for t in load_preset("salesforce").tables)  # export names
    names = set(english_words(labels)) | {"salesforce", "bad"}
    for code in LANGS:
        lang = get_lang(code)
        said = render(refused.failure, lang)
        assert english_in(said, CODES | names) == [], said
    out = cli("undo", folder, "--lang", "fa").stdout
    assert "ناموفق" in out and "columns do not match" not in out


# -- web routes ---------------------------------------------------------------------------
def visible(page: str) -> str:
    page = re.sub(r"<script.*?</script>|<style.*?</style>", " ", page, flags=re.S)
    page = re.sub(r'<(\w+)[^>]*translate="no"[^>]*>.*?</\1>', " ", page, flags=re.S)
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", page))


def data_names(folder: Path) -> set[str]:
    """The workspace's team, region and segment names (shown as they are)."""
    with Store.open(folder) as store:
        reps = store.table("reps").execute()
        accounts = store.table("accounts").execute()
    texts = [*reps["team"].dropna(), *reps["region"].dropna(), *accounts["segment"].dropna()]
    return {w for t in texts for w in english_words(str(t))}


@pytest.fixture(scope="module")
def app(small_demo_folder: Path, tmp_path_factory: pytest.TempPathFactory) -> FastAPI:
    folder = copy_workspace(small_demo_folder, tmp_path_factory.mktemp("leftovers") / "ws")
    names = data_names(folder)
    application = make_app(str(folder), simulation_runs=50, bootstrap=10)
    application.state.names = names
    yield application  # type: ignore[misc]
    application.state.crmroi.access.close()


@pytest.mark.parametrize("code", LANGS)
def test_web_route_texts_in_each_language(app: FastAPI, code: str) -> None:
    analyst = login(app, "analyst")
    analyst.post("/account/language", data={"language": code, "next": "/imports"})
    html = {"accept": "text/html"}
    gone = analyst.get("/imports/" + "0" * 32, headers=html)
    unknown = analyst.get("/imports/nope/mapping.yaml", headers=html)
    staged = analyst.post(
        "/imports/upload",
        files=[("files", ("deals.csv", b"deal_id,amount\nx1,1\n", "text/csv"))],
        data={"source": "generic"},
        headers=html,
    )
    no_mapping = analyst.get(staged.headers["location"] + "/mapping.yaml", headers=html)
    binary = analyst.post(
        "/imports/upload",
        files=[("files", ("deals.csv", b"%PDF-1.4 binary", "text/csv"))],
        headers=html,
    )
    empty = analyst.post(
        "/imports/upload", files=[("files", ("deals.csv", b"", "text/csv"))], headers=html
    )
    bad_filter = analyst.get("/dashboard?team=Nowhere", headers=html)
    for name, response, status in (
        ("gone", gone, 400), ("unknown", unknown, 400), ("no mapping", no_mapping, 400),
        ("binary", binary, 415), ("empty", empty, 400), ("filter", bad_filter, 400),
    ):  # fmt: skip
        assert response.status_code == status, (name, response.text[:300])
        text = visible(response.text)
        allowed = CODES | app.state.names | {"Nowhere"}
        assert english_in(text, allowed) == [], (name, text[:600])
    history = analyst.get("/imports", headers=html)
    account = analyst.get("/account", headers=html)
    presets = {p.stem for p in Path(presets_init).parent.glob("*.yaml")}
    for page in (history, account):
        codes = {"demo", "generic", "seed", "scale", "Authorization", "Bearer", "api"}
        left = english_in(visible(page.text), CODES | presets | codes)
        assert left == [], left


def test_api_keeps_english_with_codes(app: FastAPI) -> None:
    analyst = login(app, "analyst")
    empty = analyst.post("/api/v1/imports", files=[("files", ("d.csv", b"", "text/csv"))])
    assert empty.json() == {"detail": "d.csv: the file is empty", "code": "upload_empty"}
    binary = analyst.post("/api/v1/imports", files=[("files", ("d.csv", b"%PDF-1", "text/csv"))])
    assert binary.status_code == 415 and binary.json()["code"] == "upload_unsupported_type"
    assert binary.json()["detail"] == "d.csv: this is a PDF document, not a CSV text file"
    kpi = analyst.get("/api/v1/kpis/nope/series")
    assert kpi.status_code == 404 and kpi.json()["code"] == "not_found"
    assert kpi.json()["detail"].startswith("no KPI called 'nope'; KPIs are: ")
    actuals = analyst.get("/api/v1/actuals").json()
    if not actuals.get("available", True):
        assert actuals["reason_code"]


# -- CLI: usage errors, clv inputs, lists -------------------------------------------------
def cli(*args: str | Path, code: int = 0) -> subprocess.CompletedProcess[str]:
    env = {"COLUMNS": "200", "NO_COLOR": "1", "LC_ALL": "C.UTF-8", "PATH": "/usr/bin:/bin"}
    out = subprocess.run(
        [sys.executable, "-m", "crmroi", *map(str, args)],
        capture_output=True, text=True, env=env, timeout=600, check=False,
    )  # fmt: skip
    assert out.returncode == code, out.stderr
    return out


USAGE_CASES = (
    ("kpis",),
    ("kpis", "ws", "--after-months", "abc"),
    ("kpis", "ws", "--bogus"),
    ("kpis", "ws", "--by", "foo"),
    ("kpis", "ws", "extra"),
    ("nosuch",),
)


def test_usage_errors_in_english_are_typers_own() -> None:
    out = cli("kpis", code=2).stderr
    assert out.endswith("Error: Missing argument 'workspace'.\n")
    assert "Usage: " in out and "crmroi kpis [OPTIONS]" in out
    assert re.search(r"Try '.*crmroi kpis --help' for help\.", out)


@pytest.mark.parametrize("code", LANGS)
def test_usage_errors_in_each_language(code: str) -> None:
    for args in USAGE_CASES:
        err = cli(*args, "--lang", code, code=2).stderr
        options = {"OPTIONS", "COMMAND", "ARGS", "workspace", "nosuch", "foo", "abc", "extra"}
        options |= {"python", "m", "crmroi", "kpis"}  # the command line itself
        assert english_in(err, options | {"team", "rep", "segment", "source"}) == [], err
        assert "Error:" not in err and "Usage:" not in err


def test_clv_inputs_line_and_lists_in_persian(small_demo_folder: Path, tmp_path: Path) -> None:
    case = Path(__file__).resolve().parents[1] / "examples" / "case.yaml"
    text = case.read_text(encoding="utf-8")
    text = re.sub(r"customers: 2500\b", "customers: clv", text)
    text = re.sub(r"revenue_per_customer: 700\b", "revenue_per_customer: clv", text)
    clv_case = tmp_path / "case.yaml"
    clv_case.write_text(text, encoding="utf-8")
    english = cli("roi", clv_case, "--workspace", small_demo_folder, "--simulate", "10").stdout
    line = next(x for x in english.splitlines() if x.startswith("clv inputs of "))
    assert "lifetime value (BG/NBD x Gamma-Gamma on orders to " in line
    persian = cli(
        "roi", clv_case, "--workspace", small_demo_folder, "--simulate", "10", "--lang", "fa"
    ).stdout
    assert "clv inputs" not in persian and "lifetime value" not in persian
    found = [x for x in persian.splitlines() if "BG/NBD" in x]
    assert found and english_in(found[0], {"clv"}) == [], found
    kpis = cli("kpis", small_demo_folder, "--lang", "fa").stdout
    assert "،\u200f " in kpis and "," not in kpis.split("\n")[-2]


def test_clv_inputs_message_is_the_old_sentence() -> None:
    warning = "purchase model (BG/NBD): b at the edge of the search range [0.0001, 10000]"
    inputs = ClvInputs(
        as_of=dt.date(2025, 3, 1), horizon_months=24, customers_with_orders=1234,
        active_customers=987.6, value_per_customer_month=1234.567,
        fit=SimpleNamespace(warnings=[warning, "another"]),
    )  # fmt: skip
    old = (
        "lifetime value (BG/NBD x Gamma-Gamma on orders to 2025-03-01): 988 active of 1,234 "
        "customers with orders, 1,234.57 a customer a month over the next 24 months"
        f"; {warning}; another"
    )
    assert inputs.describe() == old and str(inputs.describe_message()) == old
    zh = render(inputs.describe_message(), get_lang("zh"))
    assert "2025年3月1日" in zh and "1,234.57" in zh


def test_lists_join_with_each_languages_separator() -> None:
    items = Items(["deals", "accounts", "leads"])
    assert str(items) == "deals, accounts, leads"
    assert get_lang("fa").items(items.items) == "deals،\u200f accounts،\u200f leads"
    assert get_lang("zh").items(items.items) == "deals、accounts、leads"
    assert get_lang("ru").items(items.items) == "deals, accounts, leads"
    message = Message("x", "%(names)s", {"names": items})
    assert Message.from_record(message.to_record()) == message
    assert render(message, get_lang("fa")).count("،") == 2


# -- charts ---------------------------------------------------------------------------------
def test_charts_have_a_translated_accessible_name(app: FastAPI) -> None:
    viewer = login(app, "viewer")
    viewer.post("/account/language", data={"language": "zh", "next": "/dashboard"})
    page = viewer.get("/dashboard", headers={"accept": "text/html"}).text
    assert 'data-chart-label="图表"' in page
    script = viewer.get("/static/charts.js").text
    assert "spec.description = " in script and "chartLabel" in script
    from crmroi.reports.html import render_html  # the report embeds the same

    template = Path(render_html.__code__.co_filename).parent / "templates" / "report.html.j2"
    assert '{{ _("Chart") | tojson }}' in template.read_text(encoding="utf-8")
    assert json.dumps(get_lang("fa").gettext("Chart"), ensure_ascii=False) == '"نمودار"'


# -- engine reasons shown in reports and pages: scoring, forecast --------------------------
def test_scoring_and_forecast_reasons_in_each_language() -> None:
    from crmroi.demo import generate_company
    from crmroi.improve.frames import frames_from_arrow
    from crmroi.improve.pipeline import NotEnoughPipeline, forecast_and_backtest
    from crmroi.improve.scoring import NotEnoughHistory, score_workspace
    from crmroi.messages import said_of
    from crmroi.reports.improve import Reason

    frames = frames_from_arrow(generate_company(scale=0.1, seed=3).tables)
    frames["leads"], frames["deals"] = frames["leads"].head(30), frames["deals"].head(30)
    with pytest.raises(NotEnoughHistory) as caught:
        score_workspace(frames)
    english = str(caught.value)
    assert re.fullmatch(r"nothing to score: leads: .* at least 20 of each are needed", english)
    assert "the training period (before 20" in english or "the closed history" in english
    with pytest.raises(NotEnoughPipeline) as short:
        forecast_and_backtest({**frames, "deals": frames["deals"].head(5)}, pd_now(frames))
    reasons = [
        Reason("not enough closed history", detail=said_of(caught.value)),
        Reason(said_of(short.value)),
    ]
    assert reasons[0].text(get_lang("en")) == f"not enough closed history ({english})"
    for code in LANGS:
        for reason in reasons:
            said = reason.text(get_lang(code))
            assert english_in(said, {"leads", "deals", "created_at"}) == [], said


def pd_now(frames: dict[str, object]) -> object:
    import pandas as pd

    return pd.Timestamp(frames["deals"]["created_at"].max())  # type: ignore[index]


# -- the password checker's advice ---------------------------------------------------------
WEAK = ("passwordpassword", "abcabcabcabc", "qwertyuiopas", "aaaaaaaaaaaa", "123456789012",
        "John19901990", "P@ssw0rd1234", "summer202420")  # fmt: skip


def test_weak_password_refusals_keep_english_and_are_worded() -> None:
    from zxcvbn import zxcvbn

    from crmroi.errors import ConfigurationError
    from crmroi.web.identity import check_password

    refused = 0
    for password in WEAK:
        verdict = zxcvbn(password, user_inputs=["u", "crmroi"], max_length=200)
        feedback = verdict["feedback"]
        why = feedback.get("warning") or " ".join(feedback.get("suggestions") or [])
        old = "the password is too easy to guess" + (f": {why.rstrip('.')}" if why else "")
        try:
            check_password(password, "u")
        except ConfigurationError as exc:
            message = exc.args[0]
        else:
            continue
        refused += 1
        assert isinstance(message, Message) and str(message) == old
        for code in LANGS:
            said = render(message, get_lang(code))
            assert english_in(said, {"aaa", "abc", "abcabcabc"}) == [], said
    assert refused >= 5


def test_items_survive_pickling_to_a_worker_process() -> None:
    """Worker processes send reports back pickled: a list parameter keeps its items (pickle
    once rebuilt it from the joined text, one item per character)."""
    import pickle

    said = Items(["source=referral (+0.88)", "owner=R0003 (+0.16)"])
    back = pickle.loads(pickle.dumps(said))
    assert isinstance(back, Items)
    assert back == "source=referral (+0.88), owner=R0003 (+0.16)"
    assert back.items == said.items
    assert get_lang("zh").items(back.items) == get_lang("zh").items(said.items)
