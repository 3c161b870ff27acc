# Medical MAE ViT-B/16 (https://arxiv.org/abs/2210.12843): NIH + CheXpert +
# MIMIC-CXR, mask ratio 0.90, 8 GPUs x 256, 800 epochs (40 warmup), blr 1.5e-4.
_base_ = [
    '../../_base_/models/pretrain_mae_vit-base-p16_dec512d8b.py',
    '../../_base_/datasets/pretrain_nih-chexpert-mimic_224px.py',
    '../../_base_/schedules/pretrain_adamw_warmup-cosine.py',
    '../../_base_/default_runtime_pretrain.py',
]
