#!/usr/bin/env bash
# Deliberate upgrade: re-resolve every dependency to its newest release allowed by
# pyproject.toml, install it, and run the whole suite. Review `git diff uv.lock` and the test
# results, then commit uv.lock (or `git checkout uv.lock` to stay where you were).
set -euo pipefail
cd "$(dirname "$0")/.."
UV_VERSION="0.13.9"
if uv --version 2>/dev/null | grep -qx "uv $UV_VERSION.*"; then
  UV=(uv)
else
  python3 -m pip install --quiet --disable-pip-version-check "uv==$UV_VERSION"
  UV=(python3 -m uv)
fi
"${UV[@]}" lock --upgrade
./scripts/test.sh "$@"
