# EVA-X fine-tuning schedule (arXiv:2405.05237, train_files/eva_x): AdamW,
# lr = blr = 1e-3 (no batch scaling), layer decay 0.55, wd 0.05 (not on 1-D
# params, cls_token, pos_embed), linear warmup then a constant lr (--fixed_lr).
optim_wrapper = dict(
    type='OptimWrapper',
    optimizer=dict(
        type='AdamW',
        fused=True,  # one multi-tensor kernel per step (CPU and CUDA in torch 2.14)
        lr=1e-3,
        betas=(0.9, 0.999),
        weight_decay=0.05,
    ),
    constructor='LearningRateDecayOptimWrapperConstructor',
    paramwise_cfg=dict(
        layer_decay_rate=0.55,
        flat_decay_mult=0.0,
        custom_keys={
            '.cls_token': dict(decay_mult=0.0),
            '.pos_embed': dict(decay_mult=0.0),
        },
    ),
)
warmup_epochs = 5
max_epochs = 30
param_scheduler = [
    dict(
        type='LinearLR',
        start_factor=1e-3,
        by_epoch=True,
        begin=0,
        end=warmup_epochs,
        convert_to_iter_based=True,
    ),
]
train_cfg = dict(by_epoch=True, max_epochs=max_epochs, val_interval=5)
val_cfg = dict()
test_cfg = dict()
