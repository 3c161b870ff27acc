# Demo step 2: fine-tune the MAE-pretrained demo ViT for 14-label NIH
# classification: the CPU demo recipe of configs/demo/vit-demo-p8_1xb64-30e (Medical
# MAE setup: global pool + fc_norm, layer decay, drop path, masked BCE),
# selected on validation mAUC; tools/test.py then reports the test split once.
# Point `pretrained` at the step-1 checkpoint with --cfg-options
#   model.backbone.init_cfg.checkpoint=work_dirs/demo/pretrain/epoch_20.pth
_base_ = ['./vit-demo-p8_1xb64-30e_nih14-demo-64px.py']

pretrained = 'work_dirs/demo/pretrain/epoch_20.pth'
model = dict(
    backbone=dict(
        # MAE's final norm (ln1) is unused: global pool + fc_norm (ln2) replace it.
        init_cfg=dict(
            type='CXRPretrained',
            checkpoint=pretrained,
            prefix='backbone.',
            allowed_missing=['ln2.*'],
            allowed_unexpected=['ln1.*'],
        )
    )
)
warmup_epochs = 2
max_epochs = 15
param_scheduler = [
    dict(_base_.param_scheduler[0], end=warmup_epochs),
    dict(_base_.param_scheduler[1], begin=warmup_epochs, end=max_epochs),
]
train_cfg = dict(max_epochs=max_epochs, val_interval=3)
default_hooks = dict(checkpoint=dict(interval=3))
