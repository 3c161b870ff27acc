# COVIDx 9A (normal / pneumonia / COVID-19), single-label, 480 px (EVA-X
# CovidX setting). Validation is a patient-level 10% hold-out of the train
# list (EVA-X selected on test); the official test list is tested once.
dataset_type = 'COVIDx'
data_root = 'data/covidx/'
img_size = 480
data_preprocessor = dict(
    num_classes=3, mean=[125.42] * 3, std=[72.70] * 3, to_rgb=False)
train_pipeline = [
    dict(type='LoadXRayImage', to_rgb=True),
    dict(type='RandomResizedCrop', scale=img_size, backend='pillow',
         interpolation='bicubic'),
    dict(type='RandomFlip', prob=0.5, direction='horizontal'),
    dict(type='PackInputs'),
]
test_pipeline = [
    dict(type='LoadXRayImage', to_rgb=True),
    dict(type='Resize', scale=(img_size, img_size), backend='pillow',
         interpolation='bicubic'),
    dict(type='PackInputs'),
]
train_dataloader = dict(
    batch_size=128,
    num_workers=8,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=True),
    dataset=dict(type=dataset_type, data_root=data_root,
                 ann_file='train_COVIDx9A.txt', data_prefix=dict(img_path='train/'),
                 split='train', patient_split=dict(train=0.9, val=0.1), seed=0,
                 pipeline=train_pipeline),
)
val_dataloader = dict(
    batch_size=128,
    num_workers=8,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(type=dataset_type, data_root=data_root,
                 ann_file='train_COVIDx9A.txt', data_prefix=dict(img_path='train/'),
                 split='val', patient_split=dict(train=0.9, val=0.1), seed=0,
                 test_mode=True, pipeline=test_pipeline),
)
test_dataloader = dict(
    val_dataloader,
    dataset=dict(type=dataset_type, data_root=data_root,
                 ann_file='test_COVIDx9A.txt', data_prefix=dict(img_path='test/'),
                 test_mode=True, pipeline=test_pipeline),
)
val_evaluator = dict(type='CXRClsMetrics')
test_evaluator = val_evaluator
