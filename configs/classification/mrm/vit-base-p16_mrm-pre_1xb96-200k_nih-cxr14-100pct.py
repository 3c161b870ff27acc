# MRM NIH 100%: lr 3e-3, warmup 5k, 200k steps. Seed: 85.9 test mAUC.
_base_ = ['./vit-base-p16_mrm-pre_1xb96-30k_nih-cxr14-10pct.py']
warmup_iters = 5000
max_iters = 200000
param_scheduler = [
    dict(_base_.param_scheduler[0], end=warmup_iters),
    dict(_base_.param_scheduler[1], begin=warmup_iters, end=max_iters),
]
train_cfg = dict(max_iters=max_iters, val_interval=5000)
train_dataloader = dict(dataset=dict(ann_file='mrm_splits/train_list.txt'))
default_hooks = dict(checkpoint=dict(interval=5000))
