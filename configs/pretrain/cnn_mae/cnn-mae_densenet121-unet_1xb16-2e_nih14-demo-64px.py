# CPU demo of CNN-MAE: DenseNet-121 U-Net on the embedded NIH images at 64 px,
# 8x8 patches zeroed at ratio 0.75, batch 16, 2 epochs (DenseNet-121 U-Net steps
# take seconds on a CPU).
_base_ = [
    '../../_base_/models/pretrain_cnn_mae_densenet121-unet.py',
    '../mae/_base_/pretrain_data_nih14-demo-64px.py',
    '../../_base_/schedules/pretrain_adamw_warmup-cosine.py',
    '../../_base_/default_runtime_pretrain.py',
]
model = dict(patch_size=8)
train_dataloader = dict(batch_size=16)
optim_wrapper = dict(optimizer=dict(lr=1.5e-3))
warmup_epochs = 1
max_epochs = 2
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
        T_max=max_epochs - warmup_epochs,
        by_epoch=True,
        begin=warmup_epochs,
        end=max_epochs,
        convert_to_iter_based=True,
    ),
]
train_cfg = dict(max_epochs=max_epochs)
default_hooks = dict(
    logger=dict(interval=5), checkpoint=dict(interval=1, max_keep_ckpts=1)
)
