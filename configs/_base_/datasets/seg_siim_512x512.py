# SIIM-ACR pneumothorax at 512 px in the layout of tools/data/prepare_siim.py:
# <data_root>/img_dir/<split>/<ImageId>.png, ann_dir/<split>/<ImageId>.png (0/1)
# and meta.csv. Training draws all positives + 0.4 x as many negatives per
# epoch (MRM, https://arxiv.org/abs/2301.13155).
dataset_type = 'SIIMPneumothoraxDataset'
data_root = 'data/siim_acr/'
crop_size = (512, 512)
train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='LoadAnnotations'),
    dict(type='Resize', scale=crop_size, keep_ratio=True),
    dict(type='RandomFlip', prob=0.5),
    dict(type='PackSegInputs'),
]
test_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='Resize', scale=crop_size, keep_ratio=True),
    dict(type='LoadAnnotations'),
    dict(type='PackSegInputs'),
]
train_dataloader = dict(
    batch_size=2,
    num_workers=2,
    persistent_workers=True,
    sampler=dict(type='PositiveNegativeSampler', negative_ratio=0.4, shuffle=True),
    dataset=dict(
        type=dataset_type,
        data_root=data_root,
        meta_file='meta.csv',
        data_prefix=dict(img_path='img_dir/train', seg_map_path='ann_dir/train'),
        pipeline=train_pipeline,
    ),
)
val_dataloader = dict(
    batch_size=1,
    num_workers=2,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(
        type=dataset_type,
        data_root=data_root,
        meta_file='meta.csv',
        data_prefix=dict(img_path='img_dir/val', seg_map_path='ann_dir/val'),
        pipeline=test_pipeline,
    ),
)
# the same loader on the test folders
test_dataloader = dict(
    val_dataloader,
    dataset=dict(
        val_dataloader['dataset'],
        data_prefix=dict(img_path='img_dir/test', seg_map_path='ann_dir/test'),
    ),
)
val_evaluator = [
    dict(type='SIIMDice'),
    dict(type='IoUMetric', iou_metrics=['mDice', 'mIoU']),
]
test_evaluator = val_evaluator
