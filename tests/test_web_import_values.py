"""The import wizard's value maps and constants: same rows as the CLI, YAML, field errors."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from crmroi.cli import app as cli_app
from crmroi.ingest.mapping import load_mapping
from crmroi.store import Store
from crmroi.web.import_mapping import canonical_columns, mapping_yaml
from tests.web_support import login, make_app

DEALS_NAME, CALLS_NAME = "сделки.csv", "звонки.csv"
DEALS = (
    "Номер;Клиент;Сумма;Закрыта;Этап\n"
    "D-1;ООО «Ромашка»;1 234,50;05.03.2024;Выиграна\n"
    "D-2;ЗАО Берёзка;10 000,00;13.03.2024;проиграна\n"  # values match ignoring case
    "D-3;ИП Иванов;500,00;;В работе\n"
).encode("cp1251")
CALLS = (
    "ID,Дата,Тип,Направление,Минуты\n"
    "A-1,2024-03-01,Звонок,Входящий,5\n"
    "A-2,2024-03-02,Звонок,Исходящий,12\n"
    "A-3,2024-03-03,Встреча,,30\n"
).encode()
FX = b"rate_date,currency,rate_to_base\n2024-01-01,RUB,0.01\n"
FX_MAPPING = "source_system: fx\ntables:\n  - entity: fx_rates\n"
EQUIVALENT_YAML = """
source_system: web_values
tables:
  - entity: deals
    files: ["сделки.csv"]
    columns:
      deal_id: Номер
      account_id: Клиент
      amount: Сумма
      closed_at: Закрыта
      stage: Этап
      is_won: {column: Этап, map: {Выиграна: true}, default: false}
      is_closed: {column: Этап, map: {Выиграна: true, Проиграна: true}, default: false}
    constants: {currency: RUB, kind: upsell, source: выставка}
  - entity: activities
    files: ["звонки.csv"]
    columns:
      activity_id: ID
      occurred_at: Дата
      kind: {column: Тип, map: {Звонок: call, Встреча: meeting}}
      direction: {column: Направление, map: {Входящий: inbound, Исходящий: outbound}}
      duration_minutes: Минуты
    constants: {rep_id: R-7}
"""


def form_for(entity: str, index: int, columns: dict[str, str]) -> dict[str, str]:
    """The column form of one file as a browser posts it: every column select."""
    fields = {f"f{index}.entity": entity}
    for col in canonical_columns(entity):
        fields[f"f{index}.col.{col.name}"] = columns.get(col.name, "")
    return fields


def pairs(index: int, column: str, mapping: dict[str, str]) -> dict[str, str]:
    fields = {}
    for k, (source, target) in enumerate(mapping.items()):
        fields[f"f{index}.map.{column}.{k}.from"] = source
        fields[f"f{index}.map.{column}.{k}.to"] = target
    return fields


FORM = {
    "use": "columns",
    "source_system": "web_values",
    **form_for(
        "deals",
        0,
        {
            "deal_id": "Номер",
            "account_id": "Клиент",
            "amount": "Сумма",
            "closed_at": "Закрыта",
            "stage": "Этап",
            "is_won": "Этап",
            "is_closed": "Этап",
        },
    ),
    **pairs(0, "is_won", {"Выиграна": "true"}),
    "f0.default.is_won": "false",
    **pairs(0, "is_closed", {"Выиграна": "true", "Проиграна": "true"}),
    "f0.default.is_closed": "false",
    "f0.const.currency": "RUB",
    "f0.const.kind": "upsell",
    "f0.const.source": "выставка",
    **form_for(
        "activities",
        1,
        {
            "activity_id": "ID",
            "occurred_at": "Дата",
            "kind": "Тип",
            "direction": "Направление",
            "duration_minutes": "Минуты",
        },
    ),
    **pairs(1, "kind", {"Звонок": "call", "Встреча": "meeting"}),
    **pairs(1, "direction", {"Входящий": "inbound", "Исходящий": "outbound"}),
    "f1.const.rep_id": "R-7",
}


def cli(*args: str) -> None:
    result = CliRunner().invoke(cli_app, ["import", *args])
    assert result.exit_code == 0, result.output


def prepared_workspace(folder: Path) -> Path:
    """A workspace in EUR with a rouble rate, made by the CLI."""
    folder.mkdir(parents=True)
    (folder / "fx.csv").write_bytes(FX)
    (folder / "fx.yaml").write_text(FX_MAPPING, encoding="utf-8")
    fx = [str(folder / "fx.csv"), "--mapping", str(folder / "fx.yaml"), "--base-currency", "EUR"]
    cli(str(folder), *fx)
    return folder


@pytest.fixture
def app(tmp_path: Path) -> Iterator[FastAPI]:
    folder = tmp_path / "web"
    prepared_workspace(folder)
    application = make_app(str(folder))
    yield application
    application.state.crmroi.access.close()


@pytest.fixture
def analyst(app: FastAPI) -> TestClient:
    return login(app, "analyst")


def hx(c: TestClient) -> dict[str, str]:
    return {"accept": "text/html", "X-CSRF-Token": c.headers["X-CSRF-Token"], "HX-Request": "true"}


def stage(c: TestClient) -> str:
    response = c.post(
        "/imports/upload",
        files=[
            ("files", (DEALS_NAME, DEALS, "text/csv")),
            ("files", (CALLS_NAME, CALLS, "text/csv")),
        ],
        data={"source": "generic", "csrf_token": c.headers["X-CSRF-Token"]},
        headers={"accept": "text/html"},
    )
    assert response.status_code == 303, response.text
    return str(response.headers["location"])


def rows(store: Store, table: str) -> list[dict[str, Any]]:
    data: pa.Table = store.to_arrow(table, order_by=["source_system", "source_id"])
    return data.drop_columns(["batch_id"]).to_pylist()


def preview_section(text: str) -> str:
    found = re.search(r'<section id="preview">(.*?)</section>', text, re.S)
    assert found, text
    return found.group(1)


def test_value_maps_and_constants_store_the_rows_the_cli_stores(
    app: FastAPI, analyst: TestClient, tmp_path: Path
) -> None:
    url = stage(analyst)
    page = analyst.post(f"{url}/mapping", data=FORM, headers=hx(analyst))
    assert page.status_code == 200, page.text
    assert "field-error" not in page.text, page.text
    preview = preview_section(page.text)
    assert "0</strong> would be refused" in preview, preview
    assert "<td>inbound</td>" in preview and "<td>outbound</td>" in preview
    assert "<td>upsell</td>" in preview and "<td>выставка</td>" in preview
    assert "<td>RUB</td>" in preview and "<td>12.345</td>" in preview  # 1 234,50 RUB in EUR
    assert "<td>R-7</td>" in preview and "<td>meeting</td>" in preview
    stored = "".join(re.findall(r'<table class="preview">(.*?)</table>', preview, re.S))
    assert "Входящий" not in stored and "Выиграна</td>" in stored  # stage kept as is
    assert "<td>Входящий</td><td>inbound</td>" in preview  # the summary's values read
    # the file's values are offered in the value map (a datalist of the Этап column)
    assert '<option value="В работе">' in page.text

    committed = analyst.post(f"{url}/commit", headers=hx(analyst))
    assert committed.status_code == 303, committed.text

    cli_folder = prepared_workspace(tmp_path / "cli")
    (cli_folder / DEALS_NAME).write_bytes(DEALS)
    (cli_folder / CALLS_NAME).write_bytes(CALLS)
    (cli_folder / "map.yaml").write_text(EQUIVALENT_YAML, encoding="utf-8")
    files = [str(cli_folder / DEALS_NAME), str(cli_folder / CALLS_NAME)]
    cli(str(cli_folder), *files, "--mapping", str(cli_folder / "map.yaml"))

    with app.state.crmroi.access.store() as web, Store.open(cli_folder) as by_cli:
        for table in ("deals", "activities"):
            assert rows(web, table) == rows(by_cli, table), table
        deals = rows(web, "deals")
    assert [(d["is_won"], d["is_closed"]) for d in deals] == [
        (True, True),
        (False, True),
        (False, False),
    ]
    assert {d["currency"] for d in deals} == {"RUB"} and {d["kind"] for d in deals} == {"upsell"}
    assert deals[0]["amount"] == pytest.approx(12.345)
    assert deals[0]["amount_original"] == pytest.approx(1234.5)


def test_the_mapping_yaml_download_round_trips_through_the_cli_loader(
    analyst: TestClient, tmp_path: Path
) -> None:
    url = stage(analyst)
    analyst.post(f"{url}/mapping", data=FORM, headers=hx(analyst))
    download = analyst.get(f"{url}/mapping.yaml")
    assert download.status_code == 200
    text = download.text
    path = tmp_path / "mapping.yaml"
    path.write_text(text, encoding="utf-8")
    mapping = load_mapping(path)  # what `crmroi import --mapping` reads
    assert mapping_yaml(mapping) == text
    deals, calls = mapping.tables
    assert deals.columns["is_won"].map == {"Выиграна": "true"}
    assert deals.columns["is_won"].default == "false"
    assert deals.columns["is_closed"].map == {"Выиграна": "true", "Проиграна": "true"}
    assert deals.constants == {"currency": "RUB", "kind": "upsell", "source": "выставка"}
    assert calls.columns["direction"].map == {"Входящий": "inbound", "Исходящий": "outbound"}
    assert calls.constants == {"rep_id": "R-7"}
    assert "Входящий: inbound" in text  # readable, not escaped

    # uploaded back as a mapping YAML, then edited as columns: the form shows it all
    again = analyst.post(
        "/imports/upload",
        files=[
            ("files", (DEALS_NAME, DEALS, "text/csv")),
            ("files", (CALLS_NAME, CALLS, "text/csv")),
            ("mapping", ("mapping.yaml", text.encode(), "application/x-yaml")),
        ],
        data={"source": "generic", "csrf_token": analyst.headers["X-CSRF-Token"]},
        headers={"accept": "text/html"},
    )
    page = analyst.get(again.headers["location"], headers={"accept": "text/html"})
    assert 'name="f1.map.direction.0.from" value="Входящий"' in page.text
    assert 'name="f1.map.direction.0.to" value="inbound"' in page.text
    assert 'name="f0.const.currency" value="RUB"' in page.text
    assert 'name="f0.default.is_won" value="false"' in page.text
    assert "0</strong> would be refused" in preview_section(page.text)


def field_error(text: str, field: str) -> str:
    found = re.search(rf'<small class="field-error" id="{field}-error" role="alert">([^<]*)', text)
    assert found, f"no error for {field}"
    return found.group(1)


def test_invalid_value_maps_and_constants_give_field_errors(
    app: FastAPI, analyst: TestClient
) -> None:
    url = stage(analyst)
    bad = {
        **FORM,
        "f0.col.source": "",
        **pairs(0, "source", {"сайт": "web"}),  # a value map on an unmapped column
        "f0.col.amount": "",
        "f0.const.amount": "много",  # not a number
        **pairs(0, "is_won", {"Выиграна": "maybe"}),  # not a boolean
        "f0.const.kind": "bulk",  # not a deal kind
        "f1.const.occurred_at": "31.02.2024",  # mapped, and not a date either
        **pairs(1, "direction", {"Входящий": "inbound", "входящий ": "outbound"}),
        "f1.default.kind": "",
        "f1.map.kind.5.from": "Факс",  # a pair without its target
    }
    for headers in (hx(analyst), {"accept": "text/html"}):
        page = analyst.post(f"{url}/mapping", data=bad, headers=headers)
        assert page.status_code == 200, page.text
        text = page.text
        assert "takes no value from the file" in field_error(text, "f0-source-map")
        assert field_error(text, "f0-amount-const") == "cannot read &#39;много&#39; as a number"
        assert "cannot read &#39;maybe&#39; as true/false" in field_error(text, "f0-is_won-map")
        assert "is not one of new, upsell" in field_error(text, "f0-kind-const")
        assert "comes from the file column" in field_error(text, "f1-occurred_at-const")
        assert "listed twice" in field_error(text, "f1-direction-map")
        assert "give the value &#39;Факс&#39; becomes" in field_error(text, "f1-kind-map")
        assert 'aria-describedby="f0-amount-const-error"' in text
        assert "/commit" not in text  # nothing can be imported
        assert "marked in red" in preview_section(text)
    assert analyst.get(f"{url}/mapping.yaml").status_code == 400
    with app.state.crmroi.access.store() as store:
        assert store.count("deals") == 0

    fixed = analyst.post(f"{url}/mapping", data=FORM, headers=hx(analyst))
    assert "field-error" not in fixed.text and "/commit" in fixed.text


@pytest.mark.parametrize(
    "field",
    [
        "f0.map.amount.99999.from",
        "f0.map.AMOUNT.0.from",
        "f7.map.amount.0.to",
        "f0.map.no_such_column.0.to",
        "f0.const.no_such_column",
        "f0.default.amount",
        "f0.map.amount.0.side",
        "f0.const.amount\x00",
    ],
)
def test_odd_value_fields_never_give_a_server_error(analyst: TestClient, field: str) -> None:
    url = stage(analyst)
    response = analyst.post(f"{url}/mapping", data={**FORM, field: "x" * 5000}, headers=hx(analyst))
    assert response.status_code == 200, response.text


def test_a_presets_value_maps_fill_the_form_without_errors(analyst: TestClient) -> None:
    fixture = (
        Path(__file__).parent / "fixtures" / "exports" / "salesforce" / "opportunity_object.csv"
    )
    staged = analyst.post(
        "/imports/upload",
        files={"files": ("opportunity_object.csv", fixture.read_bytes(), "text/csv")},
        data={"source": "salesforce", "csrf_token": analyst.headers["X-CSRF-Token"]},
        headers={"accept": "text/html"},
    )
    page = analyst.get(staged.headers["location"], headers={"accept": "text/html"})
    assert page.status_code == 200
    assert "field-error" not in page.text  # the preset's `"": null` is not a pair
    assert 'name="f0.map.kind.0.from" value="New Business"' in page.text
    assert 'name="f0.map.kind.0.to" value="new"' in page.text


def test_a_yaml_number_is_shown_as_the_importer_reads_it() -> None:
    """A mapping's number (a preset or uploaded YAML) fills the form in the file's decimal
    separator, so the form's own check reads back the same number."""
    from crmroi.ingest.mapping import TableMapping
    from crmroi.ingest.transform import value_problem
    from crmroi.store.schema import TABLES
    from crmroi.web.import_values import table_values

    amount = next(c for c in TABLES["deals"].all_columns if c.name == "amount")
    for numbers, shown in (({"decimal": ","}, "1500,5"), ({}, "1500.5")):
        table = TableMapping(
            entity="deals", numbers=numbers, constants={"amount": 1500.5, "kind": "new"}
        )
        _, _, constants = table_values(table, set())
        assert constants == {"amount": shown, "kind": "new"}
        assert value_problem(amount, constants["amount"], table) is None
