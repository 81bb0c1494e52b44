"""The CLI's allocator defaults (`crmroi.cli.allocators`): numpy without huge-page
advice and pyarrow on the system allocator, unless the user chose otherwise.

Checked in fresh interpreters, through the libraries' own reports of their settings
(the speed they buy is a benchmark: docs/kpis.md)."""

from __future__ import annotations

import json
import os
import subprocess
import sys

from crmroi.cli.allocators import DEFAULTS, prefer_fast_allocators

PROBE = """
import json
import crmroi.cli
import numpy._core.multiarray as multiarray
import pyarrow
print(json.dumps({"hugepage": multiarray._get_madvise_hugepage(),
                  "pool": pyarrow.default_memory_pool().backend_name}))
"""


def settings(**env: str) -> dict[str, object]:
    """numpy's huge-page advice and pyarrow's pool after loading the CLI, in a fresh
    Python whose environment has none of `DEFAULTS` except `env`."""
    clean = {k: v for k, v in os.environ.items() if k not in DEFAULTS} | env
    out = subprocess.run(
        [sys.executable, "-c", PROBE], capture_output=True, text=True, env=clean,
        timeout=120, check=True,
    ).stdout  # fmt: skip
    result: dict[str, object] = json.loads(out.strip().splitlines()[-1])
    return result


def test_loading_the_cli_sets_the_defaults_before_numpy_and_pyarrow_load() -> None:
    assert settings() == {"hugepage": False, "pool": "system"}


def test_the_users_own_settings_win() -> None:
    chosen = settings(NUMPY_MADVISE_HUGEPAGE="1", ARROW_DEFAULT_MEMORY_POOL="jemalloc")
    assert chosen["hugepage"] is True
    assert chosen["pool"] in ("jemalloc", "mimalloc")  # a wheel without jemalloc falls back


def test_only_unset_variables_are_set() -> None:
    environ = {"ARROW_DEFAULT_MEMORY_POOL": "mimalloc"}
    prefer_fast_allocators(environ)
    assert environ == {"ARROW_DEFAULT_MEMORY_POOL": "mimalloc", "NUMPY_MADVISE_HUGEPAGE": "0"}
