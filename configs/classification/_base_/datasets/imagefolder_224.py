# ImageFolder chest X-ray set (`<root>/{train,val,test}/<class>/*`), e.g.
# ChestXRay2017 (pediatric pneumonia) of MSMAE; ImageNet mean/std. MSMAE's
# fine-tune transform: RandomResizedCrop 224 (scale 0.2-1, bicubic) + flip;
# eval Resize(224, 224).
dataset_type = 'CXRImageFolder'
data_root = 'data/chest_xray_2017/'
data_preprocessor = dict(
    num_classes=2, mean=[123.675, 116.28, 103.53], std=[58.395, 57.12, 57.375],
    to_rgb=False)
train_pipeline = [
    dict(type='LoadXRayImage', to_rgb=True),
    dict(type='RandomResizedCrop', scale=224, crop_ratio_range=(0.2, 1.0),
         backend='pillow', interpolation='bicubic'),
    dict(type='RandomFlip', prob=0.5, direction='horizontal'),
    dict(type='PackInputs'),
]
test_pipeline = [
    dict(type='LoadXRayImage', to_rgb=True),
    dict(type='Resize', scale=(224, 224), backend='pillow',
         interpolation='bicubic'),
    dict(type='PackInputs'),
]
train_dataloader = dict(
    batch_size=256,
    num_workers=8,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=True),
    dataset=dict(type=dataset_type, data_root=data_root, split='train',
                 pipeline=train_pipeline),
)
val_dataloader = dict(
    batch_size=256,
    num_workers=8,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(type=dataset_type, data_root=data_root, split='val',
                 test_mode=True, pipeline=test_pipeline),
)
test_dataloader = dict(
    val_dataloader,
    dataset=dict(type=dataset_type, data_root=data_root, split='test',
                 test_mode=True, pipeline=test_pipeline),
)
val_evaluator = dict(type='CXRClsMetrics')
test_evaluator = val_evaluator
