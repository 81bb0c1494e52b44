#!/usr/bin/env bash
# Deliberate upgrade: re-resolve every dependency to its newest release allowed by
# pyproject.toml, install it, and run the whole suite. Review `git diff uv.lock` and the test
# results, then commit uv.lock (or `git checkout uv.lock` to stay where you were).
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/uv.sh
"${UV[@]}" lock --upgrade
./scripts/test.sh "$@"
