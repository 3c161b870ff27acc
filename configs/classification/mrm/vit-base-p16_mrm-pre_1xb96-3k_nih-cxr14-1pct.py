# MRM NIH 1%: lr 3e-2, warmup 50, 3k steps. Seed: 79.4 test mAUC.
_base_ = ['./vit-base-p16_mrm-pre_1xb96-30k_nih-cxr14-10pct.py']
optim_wrapper = dict(optimizer=dict(lr=3e-2))
warmup_iters = 50
max_iters = 3000
param_scheduler = [
    dict(_base_.param_scheduler[0], end=warmup_iters),
    dict(_base_.param_scheduler[1], begin=warmup_iters, end=max_iters),
]
train_cfg = dict(max_iters=max_iters, val_interval=100)
train_dataloader = dict(dataset=dict(ann_file='mrm_splits/train_1.txt'))
default_hooks = dict(checkpoint=dict(interval=100))
