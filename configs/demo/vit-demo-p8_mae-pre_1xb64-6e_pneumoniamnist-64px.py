# Demo step 3: the step-1 MAE demo ViT (pretrained on NIH images at 64 px)
# fine-tuned for pneumonia vs normal on the embedded PneumoniaMNIST (Kermany
# ChestXRay2017 via MedMNIST v2, CC BY 4.0: 3,882 / 524 / 624 images at 28 px,
# upsampled to the ViT's 64 px). One sigmoid output, masked BCE, test AUC with
# a bootstrap 95 % CI; selected on validation AUC after warm-up.
# Point `pretrained` at the step-1 checkpoint with --cfg-options.
_base_ = ['./vit-demo-p8_1xb64-30e_nih14-demo-64px.py']

pretrained = 'work_dirs/demo/pretrain/epoch_20.pth'
model = dict(
    backbone=dict(
        init_cfg=dict(
            type='CXRPretrained',
            checkpoint=pretrained,
            prefix='backbone.',
            allowed_missing=['ln2.*'],
            allowed_unexpected=['ln1.*'],
        )
    ),
    head=dict(num_classes=1),
)
# PneumoniaMNIST training-split statistics (0-255 units).
data_preprocessor = dict(
    num_classes=1, mean=[147.0, 147.0, 147.0], std=[42.0, 42.0, 42.0], to_rgb=False
)

dataset = dict(
    _delete_=True,
    type='MedMNIST',
    data_root='data/demo/pneumoniamnist_28px/',
    ann_file='pneumoniamnist.npz',
    classes=('pneumonia',),
)
train_pipeline = [
    dict(
        type='RandomResizedCrop',
        scale=64,
        crop_ratio_range=(0.7, 1.0),
        backend='pillow',
        interpolation='bicubic',
    ),
    dict(type='PackInputs'),
]
test_pipeline = [
    dict(type='Resize', scale=64, backend='pillow', interpolation='bicubic'),
    dict(type='PackInputs'),
]
train_dataloader = dict(
    batch_size=64,
    dataset=dict(dataset, split='train', pipeline=train_pipeline),
)
val_dataloader = dict(
    batch_size=128,
    dataset=dict(dataset, split='val', test_mode=True, pipeline=test_pipeline),
)
test_dataloader = dict(
    batch_size=128,
    dataset=dict(dataset, split='test', test_mode=True, pipeline=test_pipeline),
)
warmup_epochs = 1
max_epochs = 6
param_scheduler = [
    dict(_base_.param_scheduler[0], end=warmup_epochs),
    dict(_base_.param_scheduler[1], begin=warmup_epochs, end=max_epochs),
]
train_cfg = dict(max_epochs=max_epochs, val_interval=1, val_begin=warmup_epochs + 1)
val_evaluator = dict(type='MultiLabelAUC')
test_evaluator = dict(type='MultiLabelAUC', bootstrap=1000)
default_hooks = dict(
    logger=dict(interval=20),
    checkpoint=dict(interval=1, max_keep_ckpts=1, save_best='auc/mAUC', rule='greater'),
)
