"""schemathesis against the app's own OpenAPI schema: no input gives a server error.

Every operation under /api/v1 is called with generated (valid and invalid) parameters
and bodies, authenticated as an admin with a bearer token, over a private copy of the
small demo workspace. The checks: no 5xx, and responses match their documented schema.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error, response_schema_conformance

from tests.conftest import copy_workspace
from tests.web_support import make_app

TOKEN: dict[str, str] = {}


@pytest.fixture(scope="module")
def api_schema(
    small_demo_folder: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[object]:
    folder = copy_workspace(small_demo_folder, tmp_path_factory.mktemp("fuzz") / "ws")
    app = make_app(str(folder), simulation_runs=50, bootstrap=5)
    state = app.state.crmroi
    admin = next(u for u, _ in state.accounts.users() if u.username == "admin")
    TOKEN["Authorization"] = "Bearer " + state.accounts.create_api_token(admin, "fuzz")
    schema = schemathesis.openapi.from_asgi("/api/v1/openapi.json", app, headers=TOKEN)
    yield schema
    state.access.close()


def test_api_never_fails_on_any_input(api_schema: schemathesis.BaseSchema) -> None:
    """Each operation, up to 15 generated cases (derandomized: the same cases every run)."""
    operations = [result.ok() for result in api_schema.get_all_operations()]
    assert len(operations) >= 3
    for operation in operations:

        @given(case=operation.as_strategy())
        @settings(
            max_examples=15,
            deadline=None,
            suppress_health_check=list(HealthCheck),
            derandomize=True,
            database=None,
        )
        def run(case: schemathesis.Case) -> None:
            case.call_and_validate(
                headers=TOKEN, checks=[not_a_server_error, response_schema_conformance]
            )

        run()
