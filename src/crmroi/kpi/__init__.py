"""The KPI engine: every business KPI as Ibis expressions, baseline versus after go-live.

    from crmroi.kpi import compute_kpi_report, kpi_panel, KPI_DEFINITIONS

`compute_kpi_report(store, ...)` gives a `KpiReport` of `KpiChange`s (values, change,
95% interval, net change against not-yet-treated teams); `kpi_panel` gives KPI values
per team (or rep, segment, source) and month for attribution models.

The names load their modules on first use: `crmroi kpis` needs the engine, not the
panel (pandas) or anything else.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from crmroi.kpi.definitions import CONTRACT_KPIS, KPI_DEFINITIONS, KpiDefinition
    from crmroi.kpi.engine import compute_kpi_report
    from crmroi.kpi.panel import kpi_panel
    from crmroi.kpi.report import KpiChange, KpiReport

_MODULES = {
    "CONTRACT_KPIS": "definitions",
    "KPI_DEFINITIONS": "definitions",
    "KpiDefinition": "definitions",
    "compute_kpi_report": "engine",
    "kpi_panel": "panel",
    "KpiChange": "report",
    "KpiReport": "report",
}

__all__ = [
    "CONTRACT_KPIS",
    "KPI_DEFINITIONS",
    "KpiChange",
    "KpiDefinition",
    "KpiReport",
    "compute_kpi_report",
    "kpi_panel",
]


def __getattr__(name: str) -> Any:
    """The exported names, each imported from its module when first asked for."""
    if name in _MODULES:
        return getattr(importlib.import_module(f"crmroi.kpi.{_MODULES[name]}"), name)
    raise AttributeError(f"module 'crmroi.kpi' has no attribute {name!r}")
