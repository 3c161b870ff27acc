# Lung segmentation demo: the 90 CC BY radiographs with V7 Labs lung masks in
# data/demo/lungs_cc_by (0/255 masks -> 0/1), 128 px, patient-level split.
dataset_type = 'CXRBinaryMaskDataset'
data_root = 'data/demo/lungs_cc_by/'
crop_size = (128, 128)
split_cfg = dict(
    index_file='index.csv',
    image_column='image',
    mask_column='lung_mask',
    patient_column='patientid',
    split_ratios=(0.7, 0.15, 0.15),
    split_seed=0,
)
train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='LoadBinaryMask'),
    dict(
        type='RandomResize', scale=crop_size, ratio_range=(1.0, 1.25), keep_ratio=False
    ),
    dict(type='RandomCrop', crop_size=crop_size),
    dict(type='RandomFlip', prob=0.5),
    dict(type='PhotoMetricDistortion'),
    dict(type='PackSegInputs'),
]
test_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='Resize', scale=crop_size, keep_ratio=False),
    dict(type='LoadBinaryMask'),
    dict(type='PackSegInputs'),
]
train_dataloader = dict(
    batch_size=4,
    num_workers=0,
    sampler=dict(type='InfiniteSampler', shuffle=True),
    dataset=dict(
        type=dataset_type,
        data_root=data_root,
        split='train',
        pipeline=train_pipeline,
        **split_cfg,
    ),
)
val_dataloader = dict(
    batch_size=1,
    num_workers=0,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(
        type=dataset_type,
        data_root=data_root,
        split='val',
        pipeline=test_pipeline,
        **split_cfg,
    ),
)
# the same loader on the test part of the split
test_dataloader = dict(
    val_dataloader, dataset=dict(val_dataloader['dataset'], split='test')
)
val_evaluator = [
    dict(type='SIIMDice'),
    dict(type='IoUMetric', iou_metrics=['mDice', 'mIoU']),
]
test_evaluator = val_evaluator
