#!/usr/bin/env bash
# Install everything, then build the demo company in ./demo-workspace and show what it produced.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/setup.sh
.venv/bin/crmroi demo ./demo-workspace "$@"
