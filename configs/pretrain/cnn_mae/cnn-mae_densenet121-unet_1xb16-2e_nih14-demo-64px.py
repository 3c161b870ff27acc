# CPU demo of CNN-MAE: DenseNet-121 U-Net on the embedded NIH images at 64 px,
# 8x8 patches zeroed at ratio 0.75, batch 16, 2 epochs (DenseNet-121 U-Net steps
# take seconds on a CPU).
_base_ = [
    '../../_base_/models/pretrain_cnn-mae_densenet121-unet.py',
    '../../_base_/datasets/pretrain_nih14-demo_64px.py',
    '../../_base_/schedules/pretrain_adamw_warmup-cosine.py',
    '../../_base_/default_runtime_pretrain.py',
]
model = dict(patch_size=8)
train_dataloader = dict(batch_size=16)
optim_wrapper = dict(optimizer=dict(lr=1.5e-3))
warmup_epochs = 1
max_epochs = 2
param_scheduler = [
    dict(_base_.param_scheduler[0], start_factor=1e-3, end=warmup_epochs),
    dict(_base_.param_scheduler[1], begin=warmup_epochs, end=max_epochs),
]
train_cfg = dict(max_epochs=max_epochs)
default_hooks = dict(
    logger=dict(interval=5), checkpoint=dict(interval=1, max_keep_ckpts=1)
)
