# smp U-Net baseline with a ResNet-50 encoder on SIIM-ACR (the EVA-X paper's
# CNN baseline, https://arxiv.org/abs/2405.05237): AdamW 1e-4, poly, 20k iters.
_base_ = [
    '../../_base_/models/seg_smp_unet.py',
    '../../_base_/datasets/seg_siim_512x512.py',
    '../../_base_/schedules/seg_adamw_layer-decay_poly.py',
    '../../_base_/default_runtime_seg.py',
]
max_iters = 20000
train_dataloader = dict(batch_size=8)
optim_wrapper = dict(
    _delete_=True,
    type='OptimWrapper',
    optimizer=dict(
        type='AdamW',
        fused=True,  # one multi-tensor kernel per step (CPU and CUDA in torch 2.14)
        lr=1e-4,
        weight_decay=1e-4,
    ),
)
param_scheduler = [
    dict(_base_.param_scheduler[0], start_factor=1e-3, end=500),
    dict(_base_.param_scheduler[1], begin=500, end=max_iters),
]
train_cfg = dict(max_iters=max_iters)
default_hooks = dict(
    checkpoint=dict(by_epoch=False, interval=1000, save_best='Dice', rule='greater')
)
