"""The KPI engine: every business KPI as Ibis expressions, baseline versus after go-live.

    from crmroi.kpi import compute_kpi_report, kpi_panel, KPI_DEFINITIONS

`compute_kpi_report(store, ...)` gives a `KpiReport` of `KpiChange`s (values, change,
95% interval, net change against not-yet-treated teams); `kpi_panel` gives KPI values
per team (or rep, segment, source) and month for attribution models.
"""

from crmroi.kpi.definitions import CONTRACT_KPIS, KPI_DEFINITIONS, KpiDefinition
from crmroi.kpi.engine import compute_kpi_report
from crmroi.kpi.panel import kpi_panel
from crmroi.kpi.report import KpiChange, KpiReport

__all__ = [
    "CONTRACT_KPIS",
    "KPI_DEFINITIONS",
    "KpiChange",
    "KpiDefinition",
    "KpiReport",
    "compute_kpi_report",
    "kpi_panel",
]
