# COVIDx 9A (cls_covidx9a_224px.py) at 480 px, EVA-X's transforms
# (RandomResizedCrop 480 + flip; eval Resize 480x480); accuracy + per-class
# sensitivity / PPV (CXRClsMetrics).
_base_ = ['./cls_covidx9a_224px.py']
img_size = 480
train_pipeline = [
    dict(
        type='FastXRayRandomResizedCrop',
        size=img_size,
        scale=(0.08, 1.0),
        flip_prob=0.5,
        interpolation='bicubic',
    ),
    dict(type='PackInputs', meta_keys=_base_.cxr_meta_keys),
]
test_pipeline = [
    dict(type='LoadXRayImage', to_rgb=True),
    dict(
        type='Resize',
        scale=(img_size, img_size),
        backend='pillow',
        interpolation='bicubic',
    ),
    dict(type='PackInputs', meta_keys=_base_.cxr_meta_keys),
]
train_dataloader = dict(dataset=dict(pipeline=train_pipeline))
val_dataloader = dict(dataset=dict(pipeline=test_pipeline))
test_dataloader = dict(dataset=dict(pipeline=test_pipeline))
val_evaluator = dict(_delete_=True, type='CXRClsMetrics')
test_evaluator = dict(_delete_=True, type='CXRClsMetrics')
