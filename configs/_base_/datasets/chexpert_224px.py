# CheXpert v1.0-small, 5 competition tasks, frontal views, the seeds'
# uncertainty policy (U-Ones for Atelectasis and Edema, U-Zeros otherwise).
# The official valid.csv (234 images) is the test set; validation uses a
# patient-level 5 % hold-out of train.csv (seeded), never the test set.
dataset_type = 'CheXpert'
data_root = 'data/chexpert/'
val_split = dict(train=0.95, val=0.05)

# ImageNet statistics, as medical_mae uses for CheXpert, in 0-255 units.
data_preprocessor = dict(
    num_classes=5,
    mean=[123.675, 116.28, 103.53],
    std=[58.395, 57.12, 57.375],
    to_rgb=False,
)

train_pipeline = [
    dict(type='LoadXRayImage', to_rgb=True),
    dict(
        type='RandomResizedCrop', scale=224, backend='pillow', interpolation='bicubic'
    ),
    dict(type='RandomFlip', prob=0.5, direction='horizontal'),
    dict(type='PackInputs'),
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
    dict(type='PackInputs'),
]

train_dataloader = dict(
    batch_size=64,
    num_workers=8,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=True),
    dataset=dict(
        type=dataset_type,
        data_root=data_root,
        ann_file='CheXpert-v1.0-small/train.csv',
        frontal_only=True,
        split='train',
        patient_split=val_split,
        pipeline=train_pipeline,
    ),
)
val_dataloader = dict(
    batch_size=128,
    num_workers=8,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(
        type=dataset_type,
        data_root=data_root,
        ann_file='CheXpert-v1.0-small/train.csv',
        frontal_only=True,
        split='val',
        patient_split=val_split,
        test_mode=True,
        pipeline=test_pipeline,
    ),
)
test_dataloader = dict(
    batch_size=128,
    num_workers=8,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(
        type=dataset_type,
        data_root=data_root,
        ann_file='CheXpert-v1.0-small/valid.csv',
        frontal_only=True,
        test_mode=True,
        pipeline=test_pipeline,
    ),
)
val_evaluator = dict(type='MultiLabelAUC')
test_evaluator = val_evaluator
