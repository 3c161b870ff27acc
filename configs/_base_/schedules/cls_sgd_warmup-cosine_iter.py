# MRM NIH fine-tuning schedule (arXiv:2301.13155, NIH_ChestX-ray/*.sh): SGD
# momentum 0.9, no weight decay, gradient clipping at 1.0, linear warmup then
# cosine to 0, counted in iterations. Leaf configs set lr, warmup and steps
# (1%: 3e-2/50/3k; 10%: 3e-3/500/30k; 100%: 3e-3/5k/200k). The cosine has no
# T_max (mmengine takes end - begin).
optim_wrapper = dict(
    type='OptimWrapper',
    optimizer=dict(type='SGD', lr=3e-3, momentum=0.9, weight_decay=0.0),
    clip_grad=dict(max_norm=1.0),
)
warmup_iters = 500
max_iters = 30000
param_scheduler = [
    dict(type='LinearLR', start_factor=1e-3, by_epoch=False, begin=0, end=warmup_iters),
    dict(
        type='CosineAnnealingLR',
        eta_min=0.0,
        by_epoch=False,
        begin=warmup_iters,
        end=max_iters,
    ),
]
train_cfg = dict(type='IterBasedTrainLoop', max_iters=max_iters, val_interval=1000)
val_cfg = dict()
test_cfg = dict()
