#!/usr/bin/env bash
# Set up the environment and run the whole test suite on CPU.
#   bash tools/run_tests.sh [pytest args]
set -euo pipefail
REPO=$(cd "$(dirname "$0")/.." && pwd)
VENV=${CXR_VENV:-$REPO/.venv}
bash "$REPO/tools/setup_env.sh" "$VENV"
cd "$REPO"
exec "$VENV/bin/python" -m pytest "$@"
