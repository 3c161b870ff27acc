#!/usr/bin/env bash
# Create (or reuse) a virtual environment with cxr_plugins and its pinned stack.
#   bash tools/setup_env.sh [VENV_DIR]      (default: .venv in the repository)
# pip takes torch 2.14.1 / torchvision 0.29.1 from local disk where they lie there.
set -euo pipefail
REPO=$(cd "$(dirname "$0")/.." && pwd)
VENV=${1:-${CXR_VENV:-$REPO/.venv}}
PYTHON_BIN=${PYTHON_BIN:-python3}

if [ ! -x "$VENV/bin/python" ]; then
    echo "[setup] creating virtual environment $VENV"
    "$PYTHON_BIN" -m venv "$VENV"
fi
stamp="$VENV/.cxr_plugins_installed"
if [ ! -f "$stamp" ] || [ -n "$(find "$REPO/requirements" "$REPO/setup.py" -newer "$stamp")" ]; then
    echo "[setup] installing cxr_plugins and pinned requirements into $VENV"
    "$VENV/bin/python" -m pip install --quiet "setuptools>=77.0.3,<82"
    "$VENV/bin/python" -m pip install --quiet -e "$REPO[seg,tests]"
    touch "$stamp"
fi
"$VENV/bin/python" -c "import cxr_plugins, mmseg.models, mmpretrain.models; print('[setup] ok: cxr_plugins', cxr_plugins.__version__)" 2>/dev/null
