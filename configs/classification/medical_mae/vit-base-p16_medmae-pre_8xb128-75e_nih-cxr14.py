# Medical MAE ViT-B/16 on NIH ChestX-ray14: the ViT-S recipe with ViT-B
# (FINETUNE.md gives no ViT-B command; same hyper-parameters assumed).
# Seed: 83.0 test mAUC (X-ray MAE 0.5M pretraining).
_base_ = ['./vit-small-p16_medmae-pre_8xb128-75e_nih-cxr14.py']
model = dict(
    backbone=dict(
        arch='base',
        init_cfg=dict(checkpoint='checkpoints/medmae_vit-base-p16_cxr-0.5m.pth'),
    ),
    head=dict(in_channels=768),
)
