# MRM SIIM-ACR fine-tuning on the 10% list (train_10): 100 warm-up iterations,
# 5k iterations, validation every 50 (https://arxiv.org/abs/2301.13155).
_base_ = ['./upernet_vit-base-p16_mrm-pre_4xb2-160k_siim-512x512.py']
max_iters = 5000
warmup_iters = 100
train_dataloader = dict(
    dataset=dict(
        data_prefix=dict(img_path='img_dir/train_10', seg_map_path='ann_dir/train_10')
    )
)
param_scheduler = [
    dict(_base_.param_scheduler[0], end=warmup_iters),
    dict(_base_.param_scheduler[1], begin=warmup_iters, end=max_iters),
]
train_cfg = dict(max_iters=max_iters, val_interval=50)
default_hooks = dict(checkpoint=dict(interval=50))
