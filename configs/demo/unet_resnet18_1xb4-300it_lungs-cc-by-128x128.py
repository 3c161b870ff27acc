# Lung segmentation demo: smp U-Net with a ResNet-18 encoder (no pretrained
# weights) on the CC BY lung masks of data/demo/lungs_cc_by, 128 px, CPU.
_base_ = [
    '../_base_/models/seg_smp_unet.py',
    '../_base_/datasets/seg_lungs-cc-by_128x128.py',
    '../_base_/schedules/seg_adamw_layer-decay_poly.py',
    '../_base_/default_runtime_seg.py',
]
model = dict(
    data_preprocessor=dict(size=(128, 128)), backbone=dict(encoder_name='resnet18')
)
max_iters = 300
optim_wrapper = dict(
    _delete_=True,
    type='OptimWrapper',
    optimizer=dict(
        type='AdamW',
        fused=True,  # one multi-tensor kernel per step (CPU and CUDA in torch 2.14)
        lr=1e-3,
        weight_decay=1e-4,
    ),
)
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
