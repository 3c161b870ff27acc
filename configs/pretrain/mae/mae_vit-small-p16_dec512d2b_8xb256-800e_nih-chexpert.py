# Medical MAE ViT-S/16 (https://arxiv.org/abs/2210.12843): NIH + CheXpert,
# mask ratio 0.90, 8 GPUs x 256, 800 epochs (40 warmup), blr 1.5e-4, wd 0.05.
# tools/dist_train.sh configs/pretrain/mae/<this file> 8
_base_ = [
    '../../_base_/models/pretrain_mae_vit-small-p16_dec512d2b.py',
    '../../_base_/datasets/pretrain_nih-chexpert_224px.py',
    '../../_base_/schedules/pretrain_adamw_warmup-cosine.py',
    '../../_base_/default_runtime_pretrain.py',
]
