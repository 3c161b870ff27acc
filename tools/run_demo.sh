#!/usr/bin/env bash
# The main job end to end on the embedded demo data, on CPU, no download:
#   1. MAE pretraining of a small ViT on the 1,000 NIH demo images,
#   2. fine-tuning it for 14-label classification (per-class test AUC printed),
#   3. lung segmentation with the same ViT in an mmseg EncoderDecoder (Dice printed).
#   bash tools/run_demo.sh [WORK_DIR]          (default work_dirs/demo)
# DEMO_SCALE=quick shortens every schedule (used by the tests).
set -euo pipefail
REPO=$(cd "$(dirname "$0")/.." && pwd)
VENV=${CXR_VENV:-$REPO/.venv}
WORK=${1:-work_dirs/demo}
bash "$REPO/tools/setup_env.sh" "$VENV"
cd "$REPO"
PY="$VENV/bin/python"
start=$(date +%s)

PRE_CFG=configs/demo/mae_vit-demo-p8_dec128d2b_1xb64-20e_nih14-demo-64px.py
CLS_CFG=configs/demo/vit-demo-p8_mae-pre_1xb64-15e_nih14-demo-64px.py
SEG_CFG=configs/demo/upernet_vit-demo-p8_mae-pre_1xb4-400it_lungs-cc-by-128x128.py
# epochs / iterations and warm-up length of each step
PRE_EPOCHS=20; PRE_WARMUP=2; CLS_EPOCHS=15; CLS_WARMUP=2; CLS_VAL=3
SEG_ITERS=400; SEG_WARMUP=40; SEG_VAL=100
if [ "${DEMO_SCALE:-full}" = quick ]; then
    PRE_EPOCHS=2; PRE_WARMUP=1; CLS_EPOCHS=2; CLS_WARMUP=1; CLS_VAL=1
    SEG_ITERS=20; SEG_WARMUP=5; SEG_VAL=20
fi

echo "== 1/3 MAE pretraining ($PRE_EPOCHS epochs) =="
"$PY" tools/train.py "$PRE_CFG" --work-dir "$WORK/pretrain" --cfg-options \
    train_cfg.max_epochs=$PRE_EPOCHS default_hooks.checkpoint.interval=$PRE_EPOCHS \
    param_scheduler.0.end=$PRE_WARMUP param_scheduler.1.begin=$PRE_WARMUP \
    param_scheduler.1.end=$PRE_EPOCHS
PRE_CKPT="$WORK/pretrain/epoch_$PRE_EPOCHS.pth"

echo "== 2/3 classification fine-tuning ($CLS_EPOCHS epochs, selected on validation) =="
"$PY" tools/train.py "$CLS_CFG" --work-dir "$WORK/classification" --cfg-options \
    model.backbone.init_cfg.checkpoint="$PRE_CKPT" train_cfg.max_epochs=$CLS_EPOCHS \
    train_cfg.val_interval=$CLS_VAL default_hooks.checkpoint.interval=$CLS_VAL \
    param_scheduler.0.end=$CLS_WARMUP param_scheduler.1.begin=$CLS_WARMUP \
    param_scheduler.1.end=$CLS_EPOCHS
CLS_BEST=$(ls -t "$WORK"/classification/best_*.pth | head -n 1)
echo "== classification test split (checkpoint $CLS_BEST) =="
"$PY" tools/test.py "$CLS_CFG" "$CLS_BEST" --work-dir "$WORK/classification" \
    --out-dir "$WORK/classification/test_outputs"

echo "== 3/3 lung segmentation ($SEG_ITERS iterations) =="
"$PY" tools/train.py "$SEG_CFG" --work-dir "$WORK/segmentation" --cfg-options \
    model.backbone.init_cfg.checkpoint="$PRE_CKPT" train_cfg.max_iters=$SEG_ITERS \
    train_cfg.val_interval=$SEG_VAL default_hooks.checkpoint.interval=$SEG_VAL \
    param_scheduler.0.end=$SEG_WARMUP param_scheduler.1.begin=$SEG_WARMUP \
    param_scheduler.1.end=$SEG_ITERS
SEG_BEST=$(ls -t "$WORK"/segmentation/best_*.pth | head -n 1)
echo "== segmentation test split (checkpoint $SEG_BEST) =="
"$PY" tools/test.py "$SEG_CFG" "$SEG_BEST" --work-dir "$WORK/segmentation" \
    --out-dir "$WORK/segmentation/test_outputs" --show-dir "$WORK/segmentation/overlays"

echo "== demo finished in $(( $(date +%s) - start )) s =="
echo "checkpoints and logs:"
echo "  pretraining:    $WORK/pretrain (checkpoint $PRE_CKPT)"
echo "  classification: $WORK/classification (best $CLS_BEST, test outputs in $WORK/classification/test_outputs)"
echo "  segmentation:   $WORK/segmentation (best $SEG_BEST, overlays in $WORK/segmentation/overlays)"
