#!/usr/bin/env bash
# Install crmroi and its development tools into ./.venv, exactly the versions in uv.lock.
# The lock is the environment the suite ran with; `uv sync --locked` refuses to run when
# pyproject.toml and uv.lock disagree, so CI fails instead of resolving something new.
# Upgrading is deliberate: ./scripts/upgrade.sh.
set -euo pipefail
cd "$(dirname "$0")/.."
UV_VERSION="0.13.9"
if uv --version 2>/dev/null | grep -qx "uv $UV_VERSION.*"; then
  UV=(uv)
else
  python3 -m pip install --quiet --disable-pip-version-check "uv==$UV_VERSION"
  UV=(python3 -m uv)
fi
"${UV[@]}" sync --quiet --locked --extra dev --compile-bytecode
