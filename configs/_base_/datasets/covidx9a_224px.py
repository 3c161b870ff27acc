# COVIDx 9A, 3 classes (normal, pneumonia, COVID-19) in EVA-X's order. COVIDx
# ships no validation list: validation is a seeded patient-level 10 % hold-out
# of the train list; test_COVIDx9A.txt (400 images) is the test set.
# For 9B use ann_file='*_COVIDx9B.txt' and classes=('negative', 'positive').
dataset_type = 'COVIDx'
data_root = 'data/covidx/'
val_split = dict(train=0.9, val=0.1)

# NIH statistics, as medical_mae fine-tunes COVIDx, in 0-255 units.
data_preprocessor = dict(
    num_classes=3, mean=[128.928] * 3, std=[64.26] * 3, to_rgb=False
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
        ann_file='train_COVIDx9A.txt',
        data_prefix='train',
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
        ann_file='train_COVIDx9A.txt',
        data_prefix='train',
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
        ann_file='test_COVIDx9A.txt',
        data_prefix='test',
        test_mode=True,
        pipeline=test_pipeline,
    ),
)
val_evaluator = dict(type='Accuracy', topk=(1,))
test_evaluator = val_evaluator
