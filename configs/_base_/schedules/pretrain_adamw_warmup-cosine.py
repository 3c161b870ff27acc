# Medical MAE pretraining schedule (https://arxiv.org/abs/2210.12843, PRETRAIN.md):
# AdamW (0.9, 0.95), base lr 1.5e-4 per 256 images, wd 0.05 except biases and
# norms, 40 epochs of per-iteration linear warmup then half-cosine to 0, 800 epochs.
#
# `lr` below is the *base* lr; `auto_scale_lr` (enabled) multiplies it by
# total_batch / 256 at run time, i.e. lr = blr x batch / 256 as in the seed
# (1.2e-3 at 8 GPUs x 256). The cosine has no T_max (mmengine takes end - begin),
# so a leaf overrides only the ends it moves:
#   param_scheduler = [dict(_base_.param_scheduler[0], end=W),
#                      dict(_base_.param_scheduler[1], begin=W, end=max_epochs)]
base_lr = 1.5e-4
warmup_epochs = 40
max_epochs = 800

optim_wrapper = dict(
    type='OptimWrapper',
    optimizer=dict(
        type='AdamW',
        fused=True,  # one multi-tensor kernel per step (CPU and CUDA in torch 2.14)
        lr=base_lr,
        betas=(0.9, 0.95),
        weight_decay=0.05,
    ),
    # timm add_weight_decay: no decay on biases and on 1-D (norm) parameters.
    paramwise_cfg=dict(norm_decay_mult=0.0, bias_decay_mult=0.0, flat_decay_mult=0.0),
)
param_scheduler = [
    dict(
        type='LinearLR',
        start_factor=1e-4,
        by_epoch=True,
        begin=0,
        end=warmup_epochs,
        convert_to_iter_based=True,
    ),
    dict(
        type='CosineAnnealingLR',
        eta_min=0.0,
        by_epoch=True,
        begin=warmup_epochs,
        end=max_epochs,
        convert_to_iter_based=True,
    ),
]
train_cfg = dict(type='EpochBasedTrainLoop', max_epochs=max_epochs)
auto_scale_lr = dict(base_batch_size=256, enable=True)
