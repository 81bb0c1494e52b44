#!/usr/bin/env bash
# Install crmroi and its development tools into ./.venv, exactly the versions in uv.lock.
# The lock is the environment the suite ran with; `uv sync --locked` refuses to run when
# pyproject.toml and uv.lock disagree, so CI fails instead of resolving something new.
# Upgrading is deliberate: ./scripts/upgrade.sh.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/uv.sh
"${UV[@]}" sync --quiet --locked --extra dev --compile-bytecode
