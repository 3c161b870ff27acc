#!/usr/bin/env bash
# The demo's MAE pretraining + classification fine-tuning + test, as
# tools/run_demo.sh runs them, with extra train.py arguments, to compare fp32
# with bf16 autocast side by side:
#   bash benchmarks/demo_amp.sh work_dirs/demo_fp32 --threads 1 &
#   bash benchmarks/demo_amp.sh work_dirs/demo_bf16 --threads 1 --amp &
# Prints PRETRAIN_SECONDS, CLS_SECONDS and the test mAUC with its bootstrap CI.
set -euo pipefail
REPO=$(cd "$(dirname "$0")/.." && pwd)
cd "$REPO"
PY=${PYTHON:-python}
WORK=$1
shift
PRE_CFG=configs/demo/mae_vit-demo-p8_dec128d2b_1xb64-20e_nih14-demo-64px.py
CLS_CFG=configs/demo/vit-demo-p8_mae-pre_1xb64-15e_nih14-demo-64px.py
start=$(date +%s)
"$PY" tools/train.py "$PRE_CFG" --work-dir "$WORK/pretrain" "$@" --cfg-options \
    train_cfg.max_epochs=20 default_hooks.checkpoint.interval=20 \
    param_scheduler.0.end=2 param_scheduler.1.begin=2 param_scheduler.1.end=20
pretrained=$(date +%s)
echo "PRETRAIN_SECONDS $((pretrained - start))"
"$PY" tools/train.py "$CLS_CFG" --work-dir "$WORK/classification" "$@" --cfg-options \
    model.backbone.init_cfg.checkpoint="$WORK/pretrain/epoch_20.pth" \
    train_cfg.max_epochs=15 train_cfg.val_interval=3 default_hooks.checkpoint.interval=3 \
    param_scheduler.0.end=2 param_scheduler.1.begin=2 param_scheduler.1.end=15
echo "CLS_SECONDS $(($(date +%s) - pretrained))"
BEST=$(ls -t "$WORK"/classification/best_*.pth | head -n 1)
"$PY" tools/test.py "$CLS_CFG" "$BEST" --work-dir "$WORK/classification" \
    --out-dir "$WORK/classification/test_outputs"
