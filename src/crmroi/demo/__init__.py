"""The demo company: a realistic, reproducible CRM data set with known true effects.

`generate_company` builds every canonical table (vectorised, deterministic for a
seed and scale) with a phased CRM roll-out, seasonality, a market shock and
injected CRM effects; `write_demo` loads it into a workspace and writes
`truth.json`, the ground truth the analysis should recover.
"""

from crmroi.demo.company import DemoCompany, generate_company
from crmroi.demo.writer import write_demo

__all__ = ["DemoCompany", "generate_company", "write_demo"]
