"""Finance: TCO and monetised benefits -> monthly cash flows -> ROI, NPV, IRR, payback.

    from crmroi.finance import load_case, build_model, summarise, simulate, npv, irr
    from crmroi.finance.evaluate import evaluate_model    # what `crmroi roi` prints
    from crmroi.finance.actuals import compare_plan       # `crmroi roi --actuals`

Pure: numbers in, cash flows and figures out. Reading a workspace (actual costs,
measured changes, lifetime value) is `crmroi.casework`'s job, the layer the CLI, the
web app and the reports call; this package imports nothing from store, ingest, kpi,
attribution or improve (a test checks it).

Modules: `metrics` (pure npv/irr/mirr/xnpv/xirr/payback), `cashflow` (monthly
conventions), `estimates` (ranges, PERT), `drivers` and `case` (case.yaml),
`model` (case -> lines -> flows), `summary`, `sanity` (warnings), `simulation`
(Monte Carlo, tornado), `inputs` (workspace numbers as plain data), `tco`
(cost categories and their IT / people / process roll-up), `evaluate`, `actuals`.
"""

from crmroi.finance.case import Case, load_case, parse_case
from crmroi.finance.cashflow import CashFlowTable, annualise, monthly_rate
from crmroi.finance.metrics import (
    discounted_payback,
    irr,
    mirr,
    npv,
    payback,
    payback_many,
    xirr,
    xnpv,
)
from crmroi.finance.model import CaseModel, build_model
from crmroi.finance.simulation import SimulationResult, simulate, tornado
from crmroi.finance.summary import Summary, summarise

__all__ = [
    "Case",
    "CaseModel",
    "CashFlowTable",
    "SimulationResult",
    "Summary",
    "annualise",
    "build_model",
    "discounted_payback",
    "irr",
    "load_case",
    "mirr",
    "monthly_rate",
    "npv",
    "parse_case",
    "payback",
    "payback_many",
    "simulate",
    "summarise",
    "tornado",
    "xirr",
    "xnpv",
]
