# Lung segmentation demo: UperNet on the 4-layer 'demo' CXRViT (patch 8,
# 128 px) through Feature2Pyramid, trained from scratch on the CC BY lung
# masks of data/demo/lungs_cc_by (patient split). Runs on a CPU in minutes.
_base_ = [
    '../_base_/models/seg_upernet_cxrvit.py',
    '../_base_/datasets/seg_lungs-cc-by_128x128.py',
    '../_base_/schedules/seg_adamw_layer-decay_poly.py',
    '../_base_/default_runtime_seg.py',
]
norm_cfg = dict(type='BN', requires_grad=True)
model = dict(
    data_preprocessor=dict(size=(128, 128)),
    backbone=dict(
        arch='demo',
        img_size=128,
        patch_size=8,
        drop_path_rate=0.0,
        out_indices=(0, 1, 2, 3),
    ),
    neck=dict(embed_dim=128),
    decode_head=dict(
        in_channels=[128, 128, 128, 128],
        channels=64,
        loss_decode=[
            dict(type='CrossEntropyLoss', use_sigmoid=False, loss_weight=1.0),
            dict(type='DiceLoss', loss_weight=1.0, ignore_index=0),
        ],
    ),
    auxiliary_head=dict(
        in_channels=128,
        channels=64,
        loss_decode=[
            dict(type='CrossEntropyLoss', use_sigmoid=False, loss_weight=0.4),
        ],
    ),
)
max_iters = 300
optim_wrapper = dict(optimizer=dict(lr=1e-3), paramwise_cfg=dict(layer_decay_rate=1.0))
param_scheduler = [
    dict(_base_.param_scheduler[0], start_factor=1e-3, end=50),
    dict(_base_.param_scheduler[1], begin=50, end=max_iters),
]
train_cfg = dict(max_iters=max_iters, val_interval=150)
default_hooks = dict(
    logger=dict(interval=25),
    checkpoint=dict(interval=150, max_keep_ckpts=1, save_best='Dice', rule='greater'),
)
vis_backends = [dict(type='LocalVisBackend')]
visualizer = dict(vis_backends=vis_backends)
