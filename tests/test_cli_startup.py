"""The CLI starts at once: loading it and printing any help imports no heavy module.

Guarded by the modules a fresh interpreter has loaded, not by timing (timings vary with
the machine's load; README "Speed" gives the command that measures `crmroi --help`).
"""

from __future__ import annotations

import json
import subprocess
import sys

HEAVY = (
    "pandas",
    "numpy",
    "ibis",
    "duckdb",
    "pyarrow",
    "scipy",
    "sklearn",
    "statsmodels",
    "sqlglot",
    "psycopg",
    "pyspark",
    "fastapi",
    "starlette",
    "uvicorn",
    "jinja2",
    "babel",
    "yaml",
    "openpyxl",
    "markdown_it",
    "crmroi.ingest",
    "crmroi.kpi",
    "crmroi.store",
    "crmroi.attribution",
    "crmroi.finance",
    "crmroi.improve",
    "crmroi.reports",
    "crmroi.web",
    "crmroi.demo",
)

# Runs `crmroi ARGS` for each ARGS of the JSON list in argv[1], through the real entry
# point, then prints the exit codes and every module loaded.
PROBE = """
import json, sys
from crmroi.cli import main
codes = []
for args in json.loads(sys.argv[1]):
    sys.argv = ["crmroi", *args]
    try:
        main()
    except SystemExit as exc:
        codes.append(exc.code)
    else:
        codes.append(0)
sys.stdout.flush()
print("\\n" + json.dumps({"codes": codes, "modules": sorted(sys.modules)}))
"""


def run_cli(*runs: list[str]) -> tuple[list[object], set[str]]:
    """Exit codes of `crmroi ARGS` for each run, and the modules loaded, in a fresh Python."""
    out = subprocess.run(
        [sys.executable, "-c", PROBE, json.dumps(list(runs))],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    ).stdout
    result = json.loads(out.strip().splitlines()[-1])
    return result["codes"], set(result["modules"])


def heavy(modules: set[str]) -> list[str]:
    return sorted(m for m in modules if any(m == h or m.startswith(h + ".") for h in HEAVY))


def commands() -> list[str]:
    from crmroi.cli import app

    names = [c.name or (c.callback.__name__ if c.callback else "") for c in app.registered_commands]
    assert len(names) >= 10 and all(names)
    return names


def test_loading_the_cli_imports_no_heavy_module() -> None:
    codes, modules = run_cli()
    assert codes == []
    assert "crmroi.cli.kpis" in modules
    assert heavy(modules) == []


def test_every_help_imports_no_heavy_module() -> None:
    names = commands()
    codes, modules = run_cli([], ["--help"], *([name, "--help"] for name in names))
    assert codes[0] in (0, 2)  # no arguments shows the help; click exits 2 for that since 8.2
    assert codes[1:] == [0] * (len(names) + 1)
    assert heavy(modules) == []


def test_the_guard_can_fail() -> None:
    """The filter catches a heavy package and its submodules, not a lookalike name."""
    assert heavy({"rich", "pandas", "ibis.expr.api", "crmroi.store.engines", "numpyish"}) == [
        "crmroi.store.engines",
        "ibis.expr.api",
        "pandas",
    ]
