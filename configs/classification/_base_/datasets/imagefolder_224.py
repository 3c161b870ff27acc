# ImageFolder set (configs/_base_/datasets/cxr-imagefolder_224px.py) with
# MSMAE's fine-tune transform: RandomResizedCrop 224 (scale 0.2-1, bicubic) +
# flip; eval Resize(224, 224); CXRClsMetrics.
_base_ = ['../../../_base_/datasets/cxr-imagefolder_224px.py']
train_pipeline = [
    dict(type='LoadXRayImage', to_rgb=True),
    dict(
        type='RandomResizedCrop',
        scale=224,
        crop_ratio_range=(0.2, 1.0),
        backend='pillow',
        interpolation='bicubic',
    ),
    dict(type='RandomFlip', prob=0.5, direction='horizontal'),
    dict(type='PackInputs'),
]
test_pipeline = [
    dict(type='LoadXRayImage', to_rgb=True),
    dict(type='Resize', scale=(224, 224), backend='pillow', interpolation='bicubic'),
    dict(type='PackInputs'),
]
train_dataloader = dict(batch_size=256, dataset=dict(pipeline=train_pipeline))
val_dataloader = dict(dataset=dict(pipeline=test_pipeline))
test_dataloader = dict(dataset=dict(pipeline=test_pipeline))
val_evaluator = dict(_delete_=True, type='CXRClsMetrics')
test_evaluator = dict(_delete_=True, type='CXRClsMetrics')
