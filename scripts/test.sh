#!/usr/bin/env bash
# Install everything, then run the linters, the type checker and the whole test suite.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/setup.sh
.venv/bin/ruff check src tests benchmarks
.venv/bin/ruff format --check src tests benchmarks
.venv/bin/mypy
# both cores: test files are spread over CRMROI_TEST_WORKERS processes (each file stays in one)
.venv/bin/pytest -n "${CRMROI_TEST_WORKERS:-2}" --dist loadfile "$@"
