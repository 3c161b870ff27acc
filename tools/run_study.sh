#!/usr/bin/env bash
# Label-efficiency study in miniature (cxr_plugins.apis.study): MAE-pretrain the
# demo ViT on the PneumoniaMNIST training images without labels, fine-tune with
# 1 %, 10 %, 100 % of the labels from it and from random init (3 seeds each),
# write summary.csv (mean, sd, 95 % CI) and label_efficiency.png.
#   bash tools/run_study.sh [WORK_DIR] [--quick] [--jobs N] [--seeds N]
#   (default work_dirs/study; --quick: one 10 % arm pair, 2 epochs, smoke test)
set -euo pipefail
REPO=$(cd "$(dirname "$0")/.." && pwd)
VENV=${CXR_VENV:-$REPO/.venv}
bash "$REPO/tools/setup_env.sh" "$VENV"
cd "$REPO"
exec "$VENV/bin/python" -m cxr_plugins.apis.study "$@"
