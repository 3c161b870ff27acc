# AdamW + layer-wise lr decay + linear warm-up + poly decay, iteration based
# (MRM / EVA-X segmentation fine-tuning). Leaf configs override lr, decay rate,
# warm-up and length; checkpointing on the best 'Dice' is set by the leaves
# (default_hooks lives in default_runtime_seg.py). Leaves override
# only the ends they move (`dict(_base_.param_scheduler[1], begin=W, end=N)`).
max_iters = 160000
warmup_iters = 1500
optim_wrapper = dict(
    type='OptimWrapper',
    optimizer=dict(
        type='AdamW',
        fused=True,  # one multi-tensor kernel per step (CPU and CUDA in torch 2.14)
        lr=2e-5,
        betas=(0.9, 0.999),
        weight_decay=0.05,
    ),
    constructor='SegLayerDecayOptimWrapperConstructor',
    paramwise_cfg=dict(
        layer_decay_rate=0.65,
        flat_decay_mult=0.0,
        custom_keys={
            '.pos_embed': dict(decay_mult=0.0),
            '.cls_token': dict(decay_mult=0.0),
        },
    ),
)
param_scheduler = [
    dict(type='LinearLR', start_factor=1e-6, by_epoch=False, begin=0, end=warmup_iters),
    dict(
        type='PolyLR',
        power=1.0,
        eta_min=0.0,
        by_epoch=False,
        begin=warmup_iters,
        end=max_iters,
    ),
]
train_cfg = dict(type='IterBasedTrainLoop', max_iters=max_iters, val_interval=500)
val_cfg = dict(type='ValLoop')
test_cfg = dict(type='TestLoop')
