"""The CLI's allocator defaults (`crmroi.cli.allocators`): numpy without huge-page advice
for every command, pyarrow on the system allocator for the report commands, and the
user's own settings first.

Checked in fresh interpreters, through the libraries' own reports of their settings
(the speed they buy is a benchmark: docs/kpis.md)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from crmroi.cli.allocators import EVERY_COMMAND, REPORT_COMMANDS, prefer_fast_allocators

# Runs `crmroi ARGS` through the entry point (argv[1], JSON; none: only loads the CLI),
# then reports the settings.
PROBE = """
import contextlib, io, json, sys
from crmroi.cli import main
args = json.loads(sys.argv[1])
if args:
    sys.argv = ["crmroi", *args]
    with contextlib.redirect_stdout(io.StringIO()), contextlib.suppress(SystemExit):
        main()
import numpy._core.multiarray as multiarray
import pyarrow
print(json.dumps({"hugepage": multiarray._get_madvise_hugepage(),
                  "pool": pyarrow.default_memory_pool().backend_name}))
"""
WITHOUT_CRMROI = "import json\n" + PROBE[PROBE.index("import numpy._core") :]  # the report alone
CHOSEN = {**EVERY_COMMAND, **REPORT_COMMANDS}


def settings(args: list[str] | None = None, **env: str) -> dict[str, object]:
    """numpy's huge-page advice and pyarrow's pool after `crmroi ARGS`, in a fresh
    Python whose environment has none of the variables crmroi sets, except `env`."""
    clean = {k: v for k, v in os.environ.items() if k not in CHOSEN} | env
    out = subprocess.run(
        [sys.executable, "-c", PROBE, json.dumps(args or [])], capture_output=True,
        text=True, env=clean, timeout=300, check=True,
    ).stdout  # fmt: skip
    result: dict[str, object] = json.loads(out.strip().splitlines()[-1])
    return result


def library_defaults() -> dict[str, object]:
    """numpy's advice and pyarrow's pool here without crmroi (numpy advises huge pages on
    Linux 4.6 and later; pyarrow's pool is mimalloc or jemalloc, by how it was built)."""
    clean = {k: v for k, v in os.environ.items() if k not in CHOSEN}
    out = subprocess.run(
        [sys.executable, "-c", WITHOUT_CRMROI], capture_output=True, text=True, env=clean,
        timeout=300, check=True,
    ).stdout  # fmt: skip
    result: dict[str, object] = json.loads(out.strip().splitlines()[-1])
    return result


def test_every_command_loads_numpy_without_huge_page_advice() -> None:
    found = settings(["--help"])  # the entry point sets it before running any command
    assert found["hugepage"] is False
    assert found["pool"] == library_defaults()["pool"] != "system"  # imports keep their pool


def test_loading_the_cli_changes_no_environment() -> None:
    """Only running a command does: a program that imports `crmroi.cli` keeps its own."""
    assert settings() == library_defaults()


def test_a_report_command_uses_the_system_allocator(small_demo_folder: Path) -> None:
    found = settings(["kpis", str(small_demo_folder), "--bootstrap", "0", "--format", "json"])
    assert found == {"hugepage": False, "pool": "system"}


def test_the_users_own_settings_win(small_demo_folder: Path) -> None:
    args = ["kpis", str(small_demo_folder), "--bootstrap", "0", "--format", "json"]
    found = settings(args, NUMPY_MADVISE_HUGEPAGE="1", ARROW_DEFAULT_MEMORY_POOL="mimalloc")
    assert found == {"hugepage": True, "pool": "mimalloc"}


def test_only_unset_variables_are_set() -> None:
    environ = {"ARROW_DEFAULT_MEMORY_POOL": "mimalloc"}
    prefer_fast_allocators(environ, report=True)
    assert environ == {"ARROW_DEFAULT_MEMORY_POOL": "mimalloc", "NUMPY_MADVISE_HUGEPAGE": "0"}
    environ = {}
    prefer_fast_allocators(environ)
    assert environ == {"NUMPY_MADVISE_HUGEPAGE": "0"}
