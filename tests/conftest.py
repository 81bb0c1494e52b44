"""Shared fixtures: workspaces, the shared data folder, the optional PostgreSQL server."""

from __future__ import annotations

import contextlib
import os
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from crmroi.store import Store

SHARED_DATA = Path(__file__).resolve().parents[2] / "shared" / "data"
POSTGRES_URL_VARIABLE = "CRMROI_TEST_POSTGRES_URL"


def shared_data(*parts: str) -> Path:
    """A path under ../shared/data, skipping the test when that folder is absent."""
    path = SHARED_DATA.joinpath(*parts)
    if not path.exists():
        pytest.skip(f"shared data {path} is absent (the ../shared/data folder is not here)")
    return path


@pytest.fixture
def workspace(tmp_path: Path) -> Iterator[Store]:
    """A new, empty DuckDB workspace."""
    store = Store.open(tmp_path / "ws", create=True)
    try:
        yield store
    finally:
        store.close()


@contextlib.contextmanager
def scratch_database(prefix: str = "crmroi_test") -> Iterator[str]:
    """A fresh database on the test PostgreSQL server (URL), dropped afterwards.

    Skips the calling test when no server is configured.
    """
    base = os.environ.get(POSTGRES_URL_VARIABLE)
    if not base:
        pytest.skip(f"no PostgreSQL server configured ({POSTGRES_URL_VARIABLE} is not set)")
    import psycopg

    name = f"{prefix}_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(base, autocommit=True) as con:
        con.execute(f'CREATE DATABASE "{name}"')
    try:
        yield base.rsplit("/", 1)[0] + "/" + name
    finally:
        with psycopg.connect(base, autocommit=True) as con:
            con.execute(f'DROP DATABASE "{name}" WITH (FORCE)')


@pytest.fixture
def postgres_url() -> Iterator[str]:
    """A fresh database on the test PostgreSQL server, dropped afterwards."""
    with scratch_database() as url:
        yield url


@pytest.fixture(scope="session")
def small_demo_folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A small demo workspace (scale 0.25, seed 7) with the demo's case.yaml, made once.

    Read-only by convention: copy it (`copy_workspace`) before changing anything.
    """
    import shutil

    from crmroi.demo import generate_company, write_demo

    folder = tmp_path_factory.mktemp("small_demo") / "ws"
    with Store.open(folder, create=True) as store:
        write_demo(store, generate_company(scale=0.25, seed=7), store.folder)
    demo_case = Path(__file__).resolve().parents[1] / "src/crmroi/reports/demo_case.yaml"
    shutil.copy(demo_case, folder / "case.yaml")
    return folder


def copy_workspace(folder: Path, target: Path) -> Path:
    """A private copy of a workspace folder (tests that import, undo or edit)."""
    import shutil

    shutil.copytree(folder, target)
    return target


CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]  # fmt: skip  (flags that keep Chromium off the network: this machine's network is closed)


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    """Debian's Chromium driven by Playwright (skips with a reason when it is absent)."""
    if not Path(CHROMIUM).exists():
        pytest.skip(f"{CHROMIUM} is absent (Debian package chromium; installed by .ci/run)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            yield b
        finally:
            b.close()
