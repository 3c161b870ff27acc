# COVIDx 9A (configs/_base_/datasets/covidx9a_224px.py) at 480 px with EVA-X's
# image statistics; accuracy + per-class sensitivity / PPV (CXRClsMetrics).
_base_ = ['../../../_base_/datasets/covidx9a_224px.py']
img_size = 480
data_preprocessor = dict(mean=[125.42] * 3, std=[72.70] * 3)
train_pipeline = [
    dict(type='LoadXRayImage', to_rgb=True),
    dict(
        type='RandomResizedCrop',
        scale=img_size,
        backend='pillow',
        interpolation='bicubic',
    ),
    dict(type='RandomFlip', prob=0.5, direction='horizontal'),
    dict(type='PackInputs'),
]
test_pipeline = [
    dict(type='LoadXRayImage', to_rgb=True),
    dict(
        type='Resize',
        scale=(img_size, img_size),
        backend='pillow',
        interpolation='bicubic',
    ),
    dict(type='PackInputs'),
]
train_dataloader = dict(batch_size=128, dataset=dict(pipeline=train_pipeline))
val_dataloader = dict(dataset=dict(pipeline=test_pipeline))
test_dataloader = dict(dataset=dict(pipeline=test_pipeline))
val_evaluator = dict(_delete_=True, type='CXRClsMetrics')
test_evaluator = dict(_delete_=True, type='CXRClsMetrics')
