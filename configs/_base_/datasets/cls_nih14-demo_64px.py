# NIH ChestX-ray14 demo subset (data/demo/nih14_64px: 1,000 images, 64x64, 264
# patients). Its `split` column is not patient-disjoint, so the dataloaders use
# a seeded patient-level 60/20/20 re-split instead.
_base_ = ['./cls_meta_keys.py']
dataset_type = 'NIHChestXray14'
data_root = 'data/demo/nih14_64px/'
patient_split = dict(train=0.6, val=0.2, test=0.2)

# NIH statistics of medical_mae (arXiv:2210.12843), in 0-255 units.
data_preprocessor = dict(
    num_classes=14,
    mean=[128.928, 128.928, 128.928],
    std=[64.26, 64.26, 64.26],
    to_rgb=False,
)

train_pipeline = [
    dict(
        type='FastXRayRandomResizedCrop',
        size=64,
        scale=(0.5, 1.0),
        flip_prob=0.5,
        interpolation='bicubic',
    ),
    dict(type='PackInputs', meta_keys=_base_.cxr_meta_keys),
]
test_pipeline = [
    dict(type='LoadXRayImage', to_rgb=True),
    dict(
        type='ResizeEdge',
        scale=64,
        edge='short',
        backend='pillow',
        interpolation='bicubic',
    ),
    dict(type='CenterCrop', crop_size=64),
    dict(type='PackInputs', meta_keys=_base_.cxr_meta_keys),
]

train_dataloader = dict(
    batch_size=32,
    num_workers=2,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=True),
    dataset=dict(
        type=dataset_type,
        data_root=data_root,
        ann_file='labels.csv',
        split='train',
        patient_split=patient_split,
        seed=0,
        pipeline=train_pipeline,
    ),
)
val_dataloader = dict(
    batch_size=64,
    num_workers=2,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(
        type=dataset_type,
        data_root=data_root,
        ann_file='labels.csv',
        split='val',
        patient_split=patient_split,
        seed=0,
        test_mode=True,
        pipeline=test_pipeline,
    ),
)
# the same loader on the test part of the patient split
test_dataloader = dict(
    val_dataloader, dataset=dict(val_dataloader['dataset'], split='test')
)
val_evaluator = dict(type='MultiLabelAUC')
test_evaluator = val_evaluator
