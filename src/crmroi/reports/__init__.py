"""Reports an executive reads and a controller can audit: HTML, PDF and a live-formula XLSX.

    from crmroi.reports import build_report, report_for, write_report

`build_report` turns a case result (plus, from a workspace, the KPI report, lead-source
KPIs, attribution and largest accounts) into one `ReportModel`; `report_for` gathers
all that from a workspace. The gathering is the costly part and needs no language:
`gather_report_inputs` computes it once as `ReportInputs`, and `report_model` words it
in each language cheaply (`report_for` is the two in one call). `write_report`
renders the model by the file's suffix:
`.html` (self-contained page), `.pdf` (WeasyPrint, A4 or Letter), `.xlsx` (xlsxwriter,
live formulas). Modules: `model` (types), `build`, `charts`, `i18n` and `labels`
(languages), `html`, `pdf`, `xlsx`, `gather` (workspace reads).

The names load their modules on first use: `crmroi kpis` words its table with
`crmroi.reports.i18n` alone, without the report builder (attribution, statsmodels).
"""

from __future__ import annotations

import importlib
from pathlib import Path
from typing import TYPE_CHECKING, Any

from crmroi.errors import ConfigurationError

if TYPE_CHECKING:
    from crmroi.reports.build import ReportInputs, build_report, report_model
    from crmroi.reports.gather import gather_report_inputs, report_for
    from crmroi.reports.i18n import LANGUAGES
    from crmroi.reports.model import ReportModel

_MODULES = {
    "ReportInputs": "build",
    "build_report": "build",
    "report_model": "build",
    "gather_report_inputs": "gather",
    "report_for": "gather",
    "LANGUAGES": "i18n",
    "ReportModel": "model",
}

__all__ = [
    "FORMATS",
    "LANGUAGES",
    "ReportInputs",
    "ReportModel",
    "build_report",
    "gather_report_inputs",
    "report_for",
    "report_model",
    "write_report",
]

FORMATS = (".html", ".pdf", ".xlsx")


def __getattr__(name: str) -> Any:
    """The exported names, each imported from its module when first asked for."""
    if name in _MODULES:
        return getattr(importlib.import_module(f"crmroi.reports.{_MODULES[name]}"), name)
    raise AttributeError(f"module 'crmroi.reports' has no attribute {name!r}")


def write_report(model: ReportModel, path: Path, *, page_size: str = "A4") -> Path:
    """Render `model` to `path` in the format its suffix names; return the path."""
    suffix = path.suffix.lower()
    if suffix not in FORMATS:
        raise ConfigurationError(
            f"{path.name}: the report format is chosen by the suffix: {', '.join(FORMATS)}"
        )
    path.parent.mkdir(parents=True, exist_ok=True)
    if suffix == ".html":
        from crmroi.reports.html import write_html

        return write_html(model, path)
    if suffix == ".pdf":
        from crmroi.reports.pdf import write_pdf

        return write_pdf(model, path, page_size=page_size)
    from crmroi.reports.xlsx import write_xlsx

    return write_xlsx(model, path)
