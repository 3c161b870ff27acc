_base_ = ['./cls_common_224px.py']

# A class-per-folder set <data_root>/<split>/<class>/<image> (the MSMAE sets)
# with MSMAE's fine-tune transform (arXiv:2305.05871): RandomResizedCrop 224
# (scale 0.2-1, bicubic) + flip; eval Resize(224, 224); CXRClsMetrics.
# Set num_classes in data_preprocessor and the model head to the folder count.
dataset_type = 'CXRImageFolder'
data_root = 'data/cxr-imagefolder/'

# ImageNet statistics (MSMAE), in 0-255 units.
data_preprocessor = dict(
    num_classes=2,
    mean=[123.675, 116.28, 103.53],
    std=[58.395, 57.12, 57.375],
    to_rgb=False,
)
train_pipeline = [
    dict(
        type='FastXRayRandomResizedCrop',
        size=224,
        scale=(0.2, 1.0),
        flip_prob=0.5,
        interpolation='bicubic',
    ),
    dict(type='PackInputs', meta_keys=_base_.cxr_meta_keys),
]
test_pipeline = [
    dict(type='LoadXRayImage', to_rgb=True),
    dict(type='Resize', scale=(224, 224), backend='pillow', interpolation='bicubic'),
    dict(type='PackInputs', meta_keys=_base_.cxr_meta_keys),
]

train_dataloader = dict(
    dataset=dict(
        type=dataset_type, data_root=data_root, split='train', pipeline=train_pipeline
    ),
)
val_dataloader = dict(
    dataset=dict(
        type=dataset_type, data_root=data_root, split='val', pipeline=test_pipeline
    ),
)
test_dataloader = dict(
    dataset=dict(
        type=dataset_type, data_root=data_root, split='test', pipeline=test_pipeline
    ),
)
val_evaluator = dict(type='CXRClsMetrics')
test_evaluator = val_evaluator
