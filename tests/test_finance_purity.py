"""crmroi.finance is pure: it imports nothing that reads a workspace or runs an engine.

Checked two ways: every import statement of its modules (including those inside
functions) by an AST walk, and the modules a fresh interpreter has loaded after
importing every finance module.
"""

from __future__ import annotations

import ast
import json
import pkgutil
import subprocess
import sys
from pathlib import Path

import crmroi.finance
from crmroi.finance.tco import COST_CATEGORIES, COST_GROUPS
from crmroi.store.schema import CRM_COST_CATEGORIES

FORBIDDEN = ("store", "ingest", "kpi", "attribution", "improve")
FINANCE = Path(crmroi.finance.__file__).parent


def _imported(path: Path) -> set[str]:
    """Absolute module names imported anywhere in `path` (relative imports resolved)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    out: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            out.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                out.add("crmroi.finance." + (node.module or ""))
            elif node.module:
                out.add(node.module)
                out.update(f"{node.module}.{a.name}" for a in node.names)
    return out


def _forbidden(name: str) -> bool:
    return any(name == f"crmroi.{f}" or name.startswith(f"crmroi.{f}.") for f in FORBIDDEN)


def test_finance_modules_import_nothing_from_the_workspace_side() -> None:
    files = sorted(FINANCE.glob("*.py"))
    assert len(files) > 10
    bad = {p.name: sorted(n for n in _imported(p) if _forbidden(n)) for p in files}
    assert {k: v for k, v in bad.items() if v} == {}


def test_the_ast_check_sees_an_import_inside_a_function(tmp_path: Path) -> None:
    probe = tmp_path / "probe.py"
    probe.write_text("def f():\n    from crmroi.store import Store\n    import crmroi.kpi.engine\n")
    assert {n for n in _imported(probe) if _forbidden(n)} == {
        "crmroi.store",
        "crmroi.store.Store",
        "crmroi.kpi.engine",
    }


def test_importing_all_of_finance_loads_no_workspace_module() -> None:
    names = [f"crmroi.finance.{m.name}" for m in pkgutil.iter_modules([str(FINANCE)])]
    code = (
        "import importlib, json, sys\n"
        f"for n in {names!r}: importlib.import_module(n)\n"
        "print(json.dumps(sorted(m for m in sys.modules if m.startswith('crmroi'))))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    loaded = json.loads(out.stdout)
    assert "crmroi.finance.model" in loaded
    assert [m for m in loaded if _forbidden(m)] == []


def test_cost_categories_match_the_data_contract() -> None:
    assert COST_CATEGORIES == CRM_COST_CATEGORIES
    grouped = [c for cats in COST_GROUPS.values() for c in cats]
    assert sorted(grouped) == sorted(COST_CATEGORIES)
