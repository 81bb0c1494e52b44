"""Mapping files: validation with line numbers, short forms, choosing a table mapping."""

from __future__ import annotations

from pathlib import Path

import pytest

from crmroi.errors import MappingError
from crmroi.ingest.mapping import choose_table_mapping, parse_mapping

TWO_TABLES = """
source_system: shop
tables:
  - entity: deals
    name: Opportunity
    detect: [StageName]
    columns: {deal_id: Id, is_won: {column: Won, map: {Yes: true, No: false}}}
  - entity: leads
    name: Lead
    detect: [IsConverted, LeadSource]
    columns: {lead_id: Id, created_at: [CreatedDate, Created Date]}
"""


def test_short_forms_and_yaml_12_booleans() -> None:
    mapping = parse_mapping(TWO_TABLES, "m.yaml")
    deals, leads = mapping.tables
    assert deals.columns["deal_id"].alternatives == ["Id"]
    assert leads.columns["created_at"].alternatives == ["CreatedDate", "Created Date"]
    assert deals.columns["is_won"].lookup() == {"yes": True, "no": False}


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            "source_system: x\ntables:\n  - entity: dealz\n",
            r"m.yaml line 3: tables.0: .*unknown entity 'dealz'",
        ),
        ("source_system: x\ntables: []\nextra: 1\n", r"m.yaml line 3: extra: Extra inputs"),
        ("tables:\n  - entity: deals\n", r"m.yaml.*source_system: Field required"),
        (
            "source_system: x\ntables:\n  - entity: deals\n    dates: {order: DDMM}\n",
            r"line 4: tables.0.dates.order",
        ),
        ("source_system: [unclosed\n", r"m.yaml: not valid YAML"),
        ("- just\n- a list\n", r"must be a YAML mapping"),
    ],
)
def test_invalid_mappings_name_file_line_and_field(text: str, message: str) -> None:
    with pytest.raises(MappingError, match=message):
        parse_mapping(text, "m.yaml")


def test_choose_by_header_signature() -> None:
    mapping = parse_mapping(TWO_TABLES, "m.yaml")
    pick = choose_table_mapping(mapping, Path("x.csv"), ["Id", "IsConverted", "LeadSource"], None)
    assert pick.entity == "leads"
    pick = choose_table_mapping(mapping, Path("x.csv"), ["id", "stagename"], None)
    assert pick.entity == "deals"
    with pytest.raises(MappingError, match="do not match any shop export"):
        choose_table_mapping(mapping, Path("x.csv"), ["Foo"], None)
    assert choose_table_mapping(mapping, Path("x.csv"), ["Foo"], "leads").entity == "leads"
    with pytest.raises(MappingError, match="nothing for orders"):
        choose_table_mapping(mapping, Path("x.csv"), ["Foo"], "orders")
