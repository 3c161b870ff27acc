# RSNA Pneumonia, binary, DICOM input, MRM's split lists
# (stage_2_train_images/<id>.dcm <0/1>; train_1 / train_10 for 1 % / 10 %).
dataset_type = 'RSNAPneumonia'
data_root = 'data/rsna-pneumonia/'

# MRM statistics (arXiv:2301.13155), in 0-255 units.
data_preprocessor = dict(
    num_classes=2, mean=[126.939] * 3, std=[62.4495] * 3, to_rgb=False
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
        ann_file='mrm_splits/train_list.txt',
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
        ann_file='mrm_splits/val_list.txt',
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
        ann_file='mrm_splits/test_list.txt',
        test_mode=True,
        pipeline=test_pipeline,
    ),
)
val_evaluator = dict(type='Accuracy', topk=(1,))
test_evaluator = val_evaluator
