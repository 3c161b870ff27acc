# Shared 224 px classification data settings: medical_mae's transforms
# (RandomResizedCrop 224 bicubic + flip, decoded and cropped in one step by
# FastXRayRandomResizedCrop; Resize 256 + CenterCrop 224 for
# evaluation), loaders and a multi-label AUC evaluator. Each dataset file
# inherits this and adds only its dataset, statistics and evaluator.
# ImageNet statistics by default, in 0-255 units.
_base_ = ['./cls_meta_keys.py']
data_preprocessor = dict(
    mean=[123.675, 116.28, 103.53], std=[58.395, 57.12, 57.375], to_rgb=False
)

train_pipeline = [
    dict(
        type='FastXRayRandomResizedCrop',
        size=224,
        scale=(0.08, 1.0),
        flip_prob=0.5,
        interpolation='bicubic',
    ),
    dict(type='PackInputs', meta_keys=_base_.cxr_meta_keys),
]
test_pipeline = [
    dict(type='LoadXRayImage', to_rgb=True),
    dict(
        type='ResizeEdge',
        scale=256,
        edge='short',
        backend='pillow',
        interpolation='bicubic',
    ),
    dict(type='CenterCrop', crop_size=224),
    dict(type='PackInputs', meta_keys=_base_.cxr_meta_keys),
]

train_dataloader = dict(
    batch_size=64,
    num_workers=8,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=True),
    dataset=dict(pipeline=train_pipeline),
)
val_dataloader = dict(
    batch_size=128,
    num_workers=8,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(test_mode=True, pipeline=test_pipeline),
)
test_dataloader = val_dataloader
val_evaluator = dict(type='MultiLabelAUC')
test_evaluator = val_evaluator
