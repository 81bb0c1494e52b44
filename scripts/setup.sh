#!/usr/bin/env bash
# Install crmroi and its development tools into ./.venv (uv if present, else pip installs uv).
set -euo pipefail
cd "$(dirname "$0")/.."
if ! command -v uv >/dev/null 2>&1; then
  python3 -m pip install --quiet --disable-pip-version-check uv
fi
UV="$(command -v uv || echo "python3 -m uv")"
if [ ! -x .venv/bin/python ]; then
  $UV venv --quiet --python python3 .venv
fi
$UV pip install --quiet --python .venv/bin/python --compile-bytecode -e '.[dev]'
