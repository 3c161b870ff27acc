# NIH 14-label classification on the 1,000 embedded images at 64 px with a
# ResNet-18 from random init on the base's stratified 60/20/20 patient split
# (at 571 training images the demo ViT, MAE-initialised or not, stays at
# chance). AdamW 1e-3, batch 32, 30 epochs, masked BCE; selection on the
# validation mean AUC of the five frequent findings starts at epoch 8, after
# warm-up, so an untrained model that outputs the label priors cannot be
# picked. Test results of this and four variants: README "NIH-14 at 64 px";
# the demo's step 2 is its cross-fitted half-width version
# (resnet18-w32_ema_1xb32-16e_nih14-demo-64px-5fold.py).
_base_ = ['./vit-demo-p8_1xb64-30e_nih14-demo-64px.py']

model = dict(
    backbone=dict(_delete_=True, type='ResNet', depth=18, out_indices=(3,)),
    neck=dict(_delete_=True, type='GlobalAveragePooling'),
    head=dict(in_channels=512, init_cfg=dict(type='Normal', layer='Linear', std=0.01)),
)
optim_wrapper = dict(
    optimizer=dict(lr=1e-3),
    constructor='DefaultOptimWrapperConstructor',
    paramwise_cfg=dict(_delete_=True, norm_decay_mult=0.0, bias_decay_mult=0.0),
)
train_dataloader = dict(batch_size=32, num_workers=1)
val_dataloader = dict(num_workers=1)
test_dataloader = dict(num_workers=1)
warmup_epochs = 2
max_epochs = 30
param_scheduler = [
    dict(_base_.param_scheduler[0], end=warmup_epochs),
    dict(_base_.param_scheduler[1], begin=warmup_epochs, end=max_epochs),
]
train_cfg = dict(max_epochs=max_epochs, val_interval=2, val_begin=8)
# The classes with >= 5 positive patients in both validation and test of this
# split (counted from the labels before any training; tests/configs checks
# the rule). The other eight have 1-4 positive patients per split: their AUCs
# are reported but too noisy to select on. auc/mAUC stays the mean over every
# defined class; auc/mAUC_subset is the mean over these five.
estimable_classes = (
    'Atelectasis',
    'Cardiomegaly',
    'Effusion',
    'Infiltration',
    'Nodule',
)
val_evaluator = dict(subset_classes=estimable_classes)
test_evaluator = dict(
    type='MultiLabelAUC', bootstrap=1000, subset_classes=estimable_classes
)
default_hooks = dict(
    logger=dict(interval=50),
    checkpoint=dict(save_best='auc/mAUC_subset'),
)
auto_scale_lr = dict(base_batch_size=32)
