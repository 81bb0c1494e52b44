"""Vendor presets: they load, pick the right table mapping from a header alone, and import."""

from __future__ import annotations

import csv
import importlib.resources
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from crmroi.errors import MappingError
from crmroi.ingest.mapping import choose_table_mapping
from crmroi.ingest.presets import PRESETS, load_preset
from crmroi.store.schema import TABLES

EXPORTS = Path(__file__).parent / "fixtures" / "exports"

# vendor, fixture file, entity and table mapping picked from the header alone
DETECT_CASES: list[tuple[str, str, str, str]] = [
    ("salesforce", "opportunity_object.csv", "deals", "Opportunity (object export)"),
    ("salesforce", "opportunity_report.csv", "deals", "Opportunity (report export)"),
    ("salesforce", "lead_object.csv", "leads", "Lead (object export)"),
    ("salesforce", "lead_report.csv", "leads", "Lead (report export)"),
    ("salesforce", "account_object.csv", "accounts", "Account (object export)"),
    ("salesforce", "contact_object.csv", "contacts", "Contact (object export)"),
    ("salesforce", "task_object.csv", "activities", "Task (object export)"),
    ("salesforce", "event_object.csv", "activities", "Event (object export)"),
    ("salesforce", "case_object.csv", "tickets", "Case (object export)"),
    ("salesforce", "user_object.csv", "reps", "User (object export)"),
    ("salesforce", "loginhistory_object.csv", "user_logins", "LoginHistory (object export)"),
    ("salesforce", "login_history_setup.csv", "user_logins", "Login History (Setup download)"),
    ("hubspot", "deals_properties.csv", "deals", "Deals (property names)"),
    ("hubspot", "deals_ui.csv", "deals", "Deals (UI export)"),
    ("hubspot", "contacts_properties.csv", "leads", "Contacts as leads (property names)"),
    ("hubspot", "contacts_ui.csv", "leads", "Contacts as leads (UI export)"),
    ("hubspot", "companies_properties.csv", "accounts", "Companies (property names)"),
    ("hubspot", "companies_ui.csv", "accounts", "Companies (UI export)"),
    ("hubspot", "calls.csv", "activities", "Calls"),
    ("hubspot", "emails.csv", "activities", "Emails"),
    ("hubspot", "meetings.csv", "activities", "Meetings"),
    ("pipedrive", "deals_api.csv", "deals", "Deals (API fields)"),
    ("pipedrive", "deals_ui.csv", "deals", "Deals (UI export)"),
    ("pipedrive", "activities_api.csv", "activities", "Activities (API fields)"),
    ("pipedrive", "activities_ui.csv", "activities", "Activities (UI export)"),
    ("pipedrive", "persons_api.csv", "contacts", "Persons (API fields)"),
    ("pipedrive", "persons_ui.csv", "contacts", "Persons (UI export)"),
    ("pipedrive", "organizations_api.csv", "accounts", "Organizations (API fields)"),
    ("pipedrive", "organizations_ui.csv", "accounts", "Organizations (UI export)"),
    ("odoo", "crm_lead_fields.csv", "deals", "crm.lead (field names)"),
    ("odoo", "crm_lead_ui.csv", "deals", "crm.lead (UI labels, minimal)"),
    ("odoo", "mail_activity_fields.csv", "activities", "mail.activity (field names)"),
    ("odoo", "mail_activity_ui.csv", "activities", "mail.activity (UI labels)"),
    (
        "odoo",
        "res_partner_fields.csv",
        "accounts",
        "res.partner companies and people (field names)",
    ),
    ("odoo", "res_partner_ui.csv", "accounts", "res.partner companies and people (UI labels)"),
]

# files that feed a second table when the entity is given
ENTITY_CASES: list[tuple[str, str, str, str]] = [
    ("hubspot", "contacts_properties.csv", "contacts", "Contacts (property names)"),
    ("hubspot", "contacts_ui.csv", "contacts", "Contacts (UI export)"),
    ("odoo", "crm_lead_fields.csv", "leads", "crm.lead as leads (field names)"),
    ("odoo", "crm_lead_ui.csv", "leads", "crm.lead as leads (UI labels)"),
    ("odoo", "res_partner_fields.csv", "contacts", "res.partner people"),
    ("odoo", "res_partner_ui.csv", "contacts", "res.partner people (UI labels)"),
]


def header_of(path: Path) -> list[str]:
    """The first row of a CSV file."""
    with path.open(newline="", encoding="utf-8-sig") as handle:
        return next(csv.reader(handle))


# ------------------------------------------------------------------ loading


@pytest.mark.parametrize("name", PRESETS)
def test_preset_loads_and_validates(name: str) -> None:
    mapping = load_preset(name)
    assert mapping.source_system == name
    assert mapping.tables
    labels = [t.label for t in mapping.tables]
    assert len(labels) == len(set(labels)), "table mapping names must be unique"
    for table in mapping.tables:
        assert table.name, "every table mapping of a preset is named"
        assert table.detect, f"{table.label} needs a detect signature"


def test_preset_name_is_case_insensitive() -> None:
    assert load_preset(" HubSpot ").source_system == "hubspot"


def test_unknown_preset_lists_the_presets() -> None:
    with pytest.raises(MappingError, match="salesforce, hubspot, pipedrive, odoo"):
        load_preset("zoho")


def test_yaml_files_are_package_data() -> None:
    shipped = {p.name for p in importlib.resources.files("crmroi.ingest.presets").iterdir()}
    assert {f"{name}.yaml" for name in PRESETS} <= shipped


@pytest.mark.parametrize("name", PRESETS)
def test_detect_signatures_of_different_entities_differ(name: str) -> None:
    seen: dict[frozenset[str], str] = {}
    for table in load_preset(name).tables:
        key = frozenset(d.casefold() for d in table.detect)
        assert seen.setdefault(key, table.entity) == table.entity, table.label


@pytest.mark.parametrize("name", PRESETS)
def test_mapped_values_are_allowed_choices(name: str) -> None:
    for table in load_preset(name).tables:
        canonical = TABLES[table.entity]
        for column, spec in table.columns.items():
            choices = canonical.column(column).choices
            if not choices:
                continue
            targets = [*(spec.map or {}).values(), spec.default]
            for value in targets:
                assert value in (None, "", *choices), f"{table.label}.{column}: {value!r}"
        for column, value in table.constants.items():
            choices = canonical.column(column).choices
            assert not choices or value in choices, f"{table.label}.{column}: {value!r}"


# ------------------------------------------------------------------ detection


def test_every_fixture_has_a_detect_case() -> None:
    listed = {(v, f) for v, f, _, _ in DETECT_CASES}
    on_disk = {(p.parent.name, p.name) for p in EXPORTS.glob("*/*.csv")}
    assert on_disk == listed


@pytest.mark.parametrize(("vendor", "file", "entity", "label"), DETECT_CASES)
def test_header_alone_picks_the_table_mapping(
    vendor: str, file: str, entity: str, label: str
) -> None:
    header = header_of(EXPORTS / vendor / file)
    # a neutral file name: the choice must come from the header
    chosen = choose_table_mapping(load_preset(vendor), Path("export.csv"), header, None)
    assert (chosen.entity, chosen.label) == (entity, label)


@pytest.mark.parametrize(("vendor", "file", "entity", "label"), ENTITY_CASES)
def test_entity_picks_the_second_reading(vendor: str, file: str, entity: str, label: str) -> None:
    header = header_of(EXPORTS / vendor / file)
    chosen = choose_table_mapping(load_preset(vendor), Path("export.csv"), header, entity)
    assert (chosen.entity, chosen.label) == (entity, label)


def test_foreign_header_is_refused() -> None:
    header = header_of(EXPORTS / "hubspot" / "calls.csv")
    with pytest.raises(MappingError, match="do not match any salesforce export"):
        choose_table_mapping(load_preset("salesforce"), Path("export.csv"), header, None)


# ------------------------------------------------------------------ end to end


def _import(tmp_path: Path, vendor: str, files: list[str], entity: str | None = None) -> Any:
    """Import fixture files into a fresh workspace; fail on any refused row."""
    pipeline = pytest.importorskip("crmroi.ingest.pipeline")
    from crmroi.store import Store

    store = Store.open(tmp_path / "ws", create=True)
    paths = [EXPORTS / vendor / f for f in files]
    report = pipeline.import_files(store, paths, source=vendor, entity=entity)
    assert report.rejects == []
    for file_report in report.files:
        assert file_report.rejected == 0
        assert file_report.inserted + file_report.updated + file_report.unchanged == (
            file_report.rows_in
        )
    return store


def _rows(store: Any, table: str) -> dict[str, dict[str, Any]]:
    """The rows of a canonical table keyed by source_id."""
    return {r["source_id"]: r for r in store.to_arrow(table).to_pylist()}


def test_salesforce_object_exports(tmp_path: Path) -> None:
    files = sorted(p.name for p in (EXPORTS / "salesforce").glob("*_object.csv"))
    store = _import(tmp_path, "salesforce", files)
    deals = _rows(store, "deals")
    won = deals["0066g00000AbCdEAAV"]
    assert won["is_won"] is True and won["is_closed"] is True
    assert won["amount"] == pytest.approx(25000.0) and isinstance(won["amount"], float)
    assert won["kind"] == "new"
    assert won["created_at"] == datetime(2024, 1, 10, 9, 15, 22)
    assert won["closed_at"] == datetime(2024, 3, 5)
    assert won["account_id"] == "0016g00000XyZ12AAB"
    assert won["owner_rep_id"] == "0056g000001AbCdAAK"
    assert deals["0066g00000AbCdFAAV"]["is_won"] is False
    assert deals["0066g00000AbCdFAAV"]["is_closed"] is True
    assert deals["0066g00000AbCdFAAV"]["kind"] == "upsell"
    assert deals["0066g00000AbCdGAAV"]["kind"] == "renewal"
    assert deals["0066g00000AbCdHAAV"]["kind"] == "upsell"
    assert deals["0066g00000AbCdIAAV"]["kind"] is None  # empty Type
    assert deals["0066g00000AbCdJAAV"]["kind"] is None  # custom Type

    acts = _rows(store, "activities")
    call = acts["00T6g00000AaBbCEAZ"]
    assert (call["kind"], call["direction"]) == ("call", "inbound")
    assert call["duration_minutes"] == pytest.approx(5.0)
    assert call["contact_id"] == "0036g00000QrStUAAR" and call["lead_id"] is None
    assert call["deal_id"] == "0066g00000AbCdEAAV"
    assert call["account_id"] == "0016g00000XyZ12AAB"
    to_lead = acts["00T6g00000AaBbDEAZ"]
    assert to_lead["lead_id"] == "00Q6g00000LmNoQEAV" and to_lead["contact_id"] is None
    assert (to_lead["direction"], to_lead["duration_minutes"]) == ("outbound", 1.5)
    assert acts["00T6g00000AaBbEEAZ"]["kind"] == "email"
    assert acts["00T6g00000AaBbEEAZ"]["deal_id"] is None  # WhatId is an account
    assert acts["00T6g00000AaBbFEAZ"]["kind"] == "task"
    assert acts["00T6g00000AaBbGEAZ"]["direction"] is None  # Internal call
    meeting = acts["00U6g00000BbCcDEAV"]
    assert (meeting["kind"], meeting["duration_minutes"]) == ("meeting", 60.0)
    assert meeting["occurred_at"] == datetime(2024, 2, 20, 13, 0)
    assert acts["00U6g00000BbCcEEAV"]["lead_id"] == "00Q6g00000LmNoREAV"

    leads = _rows(store, "leads")
    converted = leads["00Q6g00000LmNoPEAV"]
    assert converted["deal_id"] == "0066g00000AbCdEAAV"
    assert converted["converted_at"] == datetime(2024, 1, 14)
    assert converted["source"] == "Web"
    assert leads["00Q6g00000LmNoQEAV"]["converted_at"] is None
    assert _rows(store, "accounts")["0016g00000XyZ12AAB"]["country"] == "Brazil"
    assert _rows(store, "contacts")["0036g00000QrStUAAR"]["email"] == "ana.silva@acme.example"
    tickets = _rows(store, "tickets")
    assert tickets["5006g00000CcDdEAAV"]["channel"] == "Phone"
    assert tickets["5006g00000CcDdGAAV"]["closed_at"] is None
    assert _rows(store, "reps")["0056g000001AbCdAAK"]["team"] == "Sales EMEA"


def test_salesforce_report_exports(tmp_path: Path) -> None:
    # reports show 15-character ids (Data Loader gives the 18-character form)
    store = _import(tmp_path, "salesforce", ["opportunity_report.csv", "lead_report.csv"])
    deals = _rows(store, "deals")
    won = deals["0066g00000AbCdE"]
    assert won["is_won"] is True and won["is_closed"] is True and won["kind"] == "new"
    assert won["closed_at"] == datetime(2024, 3, 25)  # M/D/YYYY
    assert won["created_at"] == datetime(2024, 1, 15)
    assert won["owner_rep_id"] == "Maria Lopez"
    lost = deals["0066g00000AbCdF"]
    assert (lost["is_won"], lost["is_closed"], lost["kind"]) == (False, True, "upsell")
    assert deals["0066g00000AbCdH"]["amount"] == pytest.approx(15500.5)
    leads = _rows(store, "leads")
    assert leads["00Q6g00000LmNoT"]["converted_at"] == datetime(2024, 3, 2)
    assert leads["00Q6g00000LmNoQ"]["status"] == "Working - Contacted"


def test_salesforce_report_from_xlsx(tmp_path: Path) -> None:
    openpyxl = pytest.importorskip("openpyxl")
    book = openpyxl.Workbook()
    sheet = book.active
    with (EXPORTS / "salesforce" / "opportunity_report.csv").open(newline="") as handle:
        rows = list(csv.reader(handle))
    sheet.append(rows[0])
    for row in rows[1:]:
        sheet.append([float(v) if v.replace(".", "").isdigit() else v for v in row])
    path = tmp_path / "report1710251234567.xlsx"
    book.save(path)
    pipeline = pytest.importorskip("crmroi.ingest.pipeline")
    from crmroi.store import Store

    store = Store.open(tmp_path / "ws", create=True)
    report = pipeline.import_files(store, [path], source="salesforce")
    assert report.rejects == []
    assert report.files[0].entity == "deals"
    won = _rows(store, "deals")["0066g00000AbCdE"]
    assert won["is_won"] is True and won["amount"] == pytest.approx(25000.0)


def test_hubspot_property_exports(tmp_path: Path) -> None:
    files = [
        "deals_properties.csv",
        "contacts_properties.csv",
        "companies_properties.csv",
        "calls.csv",
        "emails.csv",
        "meetings.csv",
    ]
    store = _import(tmp_path, "hubspot", files)
    deals = _rows(store, "deals")
    won = deals["15873426011"]
    assert (won["is_won"], won["is_closed"], won["kind"]) == (True, True, "upsell")
    assert won["closed_at"] == datetime(2024, 3, 5, 10, 20, 30, 123000)
    assert won["amount"] == pytest.approx(12000.0)
    lost = deals["15873426012"]
    assert (lost["is_won"], lost["is_closed"], lost["kind"]) == (False, True, "new")
    assert deals["15873426013"]["is_closed"] is False
    assert deals["15873426015"]["kind"] is None

    acts = _rows(store, "activities")
    inbound = acts["40100001"]
    assert (inbound["kind"], inbound["direction"]) == ("call", "inbound")
    assert inbound["duration_minutes"] == pytest.approx(5.0)  # 300000 ms
    assert inbound["occurred_at"] == datetime(2024, 3, 1, 10, 15)  # epoch ms, UTC
    assert acts["40100004"]["duration_minutes"] == pytest.approx(21.0)
    assert acts["40100002"]["direction"] == "outbound"
    assert acts["40200002"]["kind"] == "email" and acts["40200002"]["direction"] == "inbound"
    assert acts["40200003"]["direction"] == "outbound"
    assert acts["40300001"]["kind"] == "meeting" and acts["40300001"]["direction"] is None

    leads = _rows(store, "leads")
    assert leads["51"]["source"] == "organic_search"
    assert leads["51"]["status"] == "customer"
    assert leads["51"]["created_at"] == datetime(2024, 1, 8, 7, 51, 12)
    assert leads["51"]["converted_at"] == datetime(2024, 1, 15, 10, 0)
    assert leads["51"]["account_id"] == "9876543201"
    assert _rows(store, "accounts")["9876543202"]["country"] == "Poland"


def test_hubspot_contacts_as_contacts(tmp_path: Path) -> None:
    store = _import(tmp_path, "hubspot", ["contacts_properties.csv"], entity="contacts")
    contact = _rows(store, "contacts")["51"]
    assert (contact["email"], contact["title"]) == ("ana.silva@acme.example", "CTO")
    assert contact["account_id"] == "9876543201"
    assert contact["name"] == "Ana Silva"  # first + last name, not the last name alone


def test_hubspot_ui_exports(tmp_path: Path) -> None:
    store = _import(tmp_path, "hubspot", ["deals_ui.csv", "contacts_ui.csv", "companies_ui.csv"])
    deals = _rows(store, "deals")
    won = deals["15873426011"]
    assert (won["is_won"], won["is_closed"], won["kind"]) == (True, True, "upsell")
    assert won["owner_rep_id"] == "Maria Lopez"
    assert (deals["15873426012"]["is_won"], deals["15873426012"]["is_closed"]) == (False, True)
    assert deals["15873426013"]["is_closed"] is False
    leads = _rows(store, "leads")
    assert leads["53"]["source"] == "social_media"
    assert leads["53"]["status"] == "marketingqualifiedlead"
    assert leads["55"]["source"] == "offline"
    assert _rows(store, "accounts")["9876543201"]["name"] == "Acme Corp"


def test_pipedrive_api_exports(tmp_path: Path) -> None:
    files = ["deals_api.csv", "activities_api.csv", "persons_api.csv", "organizations_api.csv"]
    store = _import(tmp_path, "pipedrive", files)
    deals = _rows(store, "deals")
    assert (deals["101"]["is_won"], deals["101"]["is_closed"]) == (True, True)
    assert deals["101"]["closed_at"] == datetime(2024, 3, 5, 16, 2, 11)
    assert deals["101"]["created_at"] == datetime(2024, 1, 10, 9, 15, 22)
    assert (deals["102"]["is_won"], deals["102"]["is_closed"]) == (False, True)
    assert (deals["103"]["is_won"], deals["103"]["is_closed"]) == (False, False)
    assert (deals["105"]["is_won"], deals["105"]["is_closed"]) == (False, False)  # deleted
    assert deals["103"]["amount"] == pytest.approx(8000.5)
    assert deals["101"]["account_id"] == "301"
    acts = _rows(store, "activities")
    call = acts["501"]
    assert (call["kind"], call["contact_id"], call["account_id"]) == ("call", "201", "301")
    assert (call["rep_id"], call["deal_id"]) == ("11021", "101")
    assert call["occurred_at"] == datetime(2024, 3, 1)
    assert call["duration_minutes"] is None  # HH:MM durations are not mapped
    assert acts["504"]["kind"] == "task"  # deadline
    assert acts["505"]["kind"] == "meeting"  # lunch
    assert _rows(store, "contacts")["201"]["account_id"] == "301"
    assert _rows(store, "accounts")["301"]["country"] == "Brazil"


def test_pipedrive_ui_exports(tmp_path: Path) -> None:
    files = ["deals_ui.csv", "activities_ui.csv", "persons_ui.csv", "organizations_ui.csv"]
    store = _import(tmp_path, "pipedrive", files)
    deals = _rows(store, "deals")
    assert (deals["101"]["is_won"], deals["101"]["is_closed"]) == (True, True)
    assert deals["101"]["owner_rep_id"] == "Maria Lopez"
    assert (deals["102"]["is_won"], deals["102"]["is_closed"]) == (False, True)
    assert deals["103"]["is_closed"] is False
    acts = _rows(store, "activities")
    assert acts["502"]["kind"] == "meeting" and acts["502"]["deal_id"] == "101"
    assert _rows(store, "contacts")["201"]["email"] == "ana.silva@acme.example"
    assert _rows(store, "accounts")["301"]["name"] == "Acme Corp"
    # the UI export names organizations and persons: linked to their ids by name
    assert deals["101"]["account_id"] == "301"
    assert acts["501"]["contact_id"] == "201" and acts["501"]["account_id"] == "301"


def test_odoo_field_name_exports(tmp_path: Path) -> None:
    files = ["crm_lead_fields.csv", "mail_activity_fields.csv", "res_partner_fields.csv"]
    store = _import(tmp_path, "odoo", files)
    deals = _rows(store, "deals")
    won = deals["__export__.crm_lead_12_5f3a1b2c"]
    assert (won["is_won"], won["is_closed"]) == (True, True)
    assert won["amount"] == pytest.approx(25000.0)
    assert won["closed_at"] == datetime(2024, 3, 5, 16, 2, 11)
    assert (won["account_id"], won["source"]) == ("Acme Corp", "Search engine")
    lost = deals["__export__.crm_lead_13_9e8d7c6b"]
    assert (lost["is_won"], lost["is_closed"]) == (False, True)
    open_deal = deals["__export__.crm_lead_14_1a2b3c4d"]
    assert (open_deal["is_won"], open_deal["is_closed"]) == (False, False)
    acts = _rows(store, "activities")
    kinds = {k: v["kind"] for k, v in acts.items()}
    assert sorted(kinds.values()) == ["call", "email", "meeting", "task", "task"]
    assert acts["__export__.mail_activity_41_0a1b2c3d"]["deal_id"] == "12"
    assert len(_rows(store, "accounts")) == 5


def test_odoo_second_readings(tmp_path: Path) -> None:
    store = _import(tmp_path, "odoo", ["crm_lead_fields.csv"], entity="leads")
    leads = _rows(store, "leads")
    assert leads["__export__.crm_lead_16_cc33dd44"]["source"] == "LinkedIn"
    assert leads["__export__.crm_lead_16_cc33dd44"]["created_at"] == datetime(2024, 3, 3, 15, 5)


def test_odoo_ui_exports(tmp_path: Path) -> None:
    files = ["crm_lead_ui.csv", "mail_activity_ui.csv", "res_partner_ui.csv"]
    store = _import(tmp_path, "odoo", files)
    # no ID column in this export: deals are keyed by a hash of their values
    deals = {r["account_id"]: r for r in _rows(store, "deals").values()}
    assert len(deals) == 4 and all(r["deal_id"].startswith("row-") for r in deals.values())
    assert deals["Acme Corp"]["is_won"] is True
    assert deals["Globex"]["is_closed"] is True
    assert deals["Initech"]["is_closed"] is False
    assert _rows(store, "activities")["44"]["kind"] == "task"
    assert _rows(store, "accounts")["Acme Corp"]["owner_rep_id"] == "Mitchell Admin"
