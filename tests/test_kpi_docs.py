"""docs/kpis.md documents every KPI of the registry (name, unit, tables), and the public API."""

from __future__ import annotations

import re
from pathlib import Path

import crmroi.kpi
from crmroi.kpi import CONTRACT_KPIS, KPI_DEFINITIONS

DOCS = Path(__file__).resolve().parents[1] / "docs" / "kpis.md"


def test_every_kpi_is_documented_with_unit_and_tables() -> None:
    rows = {
        m.group(1): m.group(0)
        for m in re.finditer(r"^\| `(\w+)` \|.*$", DOCS.read_text(encoding="utf-8"), re.M)
    }
    assert set(rows) == set(KPI_DEFINITIONS)
    for name, d in KPI_DEFINITIONS.items():
        cells = [c.strip() for c in rows[name].strip("|").split("|")]
        assert cells[1] == d.unit, name
        assert all(t in cells[2] for t in d.all_tables), name
        assert cells[3] == d.definition, name


def test_contract_names_are_in_the_registry() -> None:
    assert len(CONTRACT_KPIS) == 23
    assert set(CONTRACT_KPIS) <= set(KPI_DEFINITIONS)


def test_public_api() -> None:
    assert set(crmroi.kpi.__all__) >= {
        "compute_kpi_report", "KpiReport", "KpiChange", "KPI_DEFINITIONS", "kpi_panel",
    }  # fmt: skip
    for name in crmroi.kpi.__all__:
        assert getattr(crmroi.kpi, name) is not None
