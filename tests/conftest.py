"""Shared fixtures: workspaces, the shared data folder, the optional PostgreSQL server."""

from __future__ import annotations

import contextlib
import os
import uuid
from collections.abc import Iterator
from pathlib import Path

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
