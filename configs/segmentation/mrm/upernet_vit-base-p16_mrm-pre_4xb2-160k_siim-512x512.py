# MRM SIIM-ACR fine-tuning, 100% of the training list (Zhou et al., ICLR 2023,
# https://arxiv.org/abs/2301.13155): UperNet ViT-B/16 512 px, AdamW 2e-5,
# layer decay 0.65, 1,500 warm-up + poly to 160k iterations, 4 GPUs x 2.
# Data: tools/data/prepare_siim.py --split-list train=... val=... test=...
_base_ = [
    '../../_base_/models/seg_upernet_cxrvit.py',
    '../../_base_/datasets/seg_siim_512x512.py',
    '../../_base_/schedules/seg_adamw_layer-decay_poly.py',
    '../../_base_/default_runtime_seg.py',
]
model = dict(
    backbone=dict(
        init_cfg=dict(
            type='CXRPretrained',
            checkpoint='checkpoints/mrm_vit-base-p16.pth',
            prefix='backbone.',
            # Dense features use no fc_norm; a fine-tuned file's is ignored.
            allowed_unexpected=['ln2.*'],
        )
    )
)
default_hooks = dict(
    checkpoint=dict(by_epoch=False, interval=500, save_best='Dice', rule='greater')
)
