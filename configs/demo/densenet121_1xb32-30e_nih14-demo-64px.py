# CPU demo: DenseNet-121 (torchvision keys) from random init on the 1,000
# embedded NIH images at 64 px; Medical MAE's DenseNet recipe (no layer decay,
# no drop path), AdamW, warmup + cosine; selected on validation mAUC.
_base_ = [
    '../_base_/models/cls_densenet121_multilabel.py',
    '../_base_/datasets/cls_nih14-demo_64px.py',
    '../_base_/schedules/cls_adamw_warmup-cosine_cnn.py',
    '../_base_/default_runtime_cls.py',
]
optim_wrapper = dict(
    optimizer=dict(lr=1e-3 * 32 / 256),
)
warmup_epochs = 3
max_epochs = 30
param_scheduler = [
    dict(_base_.param_scheduler[0], end=warmup_epochs),
    dict(_base_.param_scheduler[1], begin=warmup_epochs, end=max_epochs),
]
train_cfg = dict(max_epochs=max_epochs, val_interval=2)
test_evaluator = dict(type='MultiLabelAUC', bootstrap=1000)
default_hooks = dict(
    logger=dict(interval=5),
    checkpoint=dict(interval=2, max_keep_ckpts=1, save_best='auc/mAUC', rule='greater'),
)
auto_scale_lr = dict(base_batch_size=32)
