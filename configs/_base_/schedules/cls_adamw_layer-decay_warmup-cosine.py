# MAE-style fine-tuning schedule (Medical MAE, arXiv:2210.12843): AdamW, lr
# 2.5e-4 x batch / 256 (1e-3 at 8x128), layer-wise lr decay 0.55 (embeddings
# layer 0, block i layer i + 1, fc_norm/head scale 1), wd 0.05 except 1-D
# params / cls_token / pos_embed, 5 warmup epochs, cosine to min_lr 1e-5
# (scaled per group, as MAE's lr_sched does: eta_min_ratio = 1e-5 / 1e-3).
# The cosine has no T_max (mmengine takes end - begin), so a leaf overrides only
# the ends it moves:
#   param_scheduler = [dict(_base_.param_scheduler[0], end=W),
#                      dict(_base_.param_scheduler[1], begin=W, end=max_epochs)]
optim_wrapper = dict(
    type='OptimWrapper',
    optimizer=dict(
        type='AdamW',
        fused=True,  # one multi-tensor kernel per step (CPU and CUDA in torch 2.14)
        lr=2.5e-4 * 1024 / 256,
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
max_epochs = 75
param_scheduler = [
    dict(
        type='LinearLR',
        start_factor=1e-3,
        by_epoch=True,
        begin=0,
        end=warmup_epochs,
        convert_to_iter_based=True,
    ),
    dict(
        type='CosineAnnealingLR',
        eta_min_ratio=1e-2,
        by_epoch=True,
        begin=warmup_epochs,
        end=max_epochs,
        convert_to_iter_based=True,
    ),
]
train_cfg = dict(by_epoch=True, max_epochs=max_epochs, val_interval=1)
val_cfg = dict()
test_cfg = dict()
# lr above is for a total batch of 1024 (8 GPUs x 128); --auto-scale-lr
# rescales it linearly to the real batch.
auto_scale_lr = dict(base_batch_size=1024)
