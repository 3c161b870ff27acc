#!/usr/bin/env bash
# The main job end to end on the embedded demo data, on CPU, no download:
#   1. MAE pretraining of a small ViT on the unlabelled NIH demo training images,
#   2. 14-label NIH classification (a ResNet-18) by 5-fold patient cross-fitting,
#   3. fine-tuning the ViT for pneumonia vs normal on PneumoniaMNIST,
#   4. lung segmentation with the same ViT in an mmseg EncoderDecoder.
# Steps 3-4 are selected on validation and tested once, step 2 is evaluated on
# its pooled out-of-fold predictions; each step ends with one line: what it
# trained, the test metric with its 95 % CI, wall/CPU time, outputs.
#   bash tools/run_demo.sh [WORK_DIR]          (default work_dirs/demo)
# DEMO_SCALE=quick shortens every schedule (used by the tests).
set -euo pipefail
REPO=$(cd "$(dirname "$0")/.." && pwd)
VENV=${CXR_VENV:-$REPO/.venv}
WORK=${1:-work_dirs/demo}
bash "$REPO/tools/setup_env.sh" "$VENV"
cd "$REPO"
QUICK=()
if [ "${DEMO_SCALE:-full}" = quick ]; then QUICK=(--quick); fi
exec "$VENV/bin/python" -m cxr_plugins.apis.demo "$WORK" "${QUICK[@]}"
