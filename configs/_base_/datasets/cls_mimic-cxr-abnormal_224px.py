_base_ = ['./cls_common_224px.py']

# MIMIC-CXR-JPG normal/abnormal (the MIMIC MAE-ViT seed's task: abnormal = any
# explicit NegBio positive among 12 findings), AP/PA views, official split,
# with the seed's timm transform: RandomResizedCrop 224 + flip + RandAugment
# rand-m9-mstd0.5-inc1 + RandomErasing (pixel mode, p 0.25; leaves override
# `erase_prob`); CXRClsMetrics (accuracy, precision, recall, F1, AUC).
dataset_type = 'MIMICCXR'
data_root = 'data/mimic-cxr-jpg/'
tables = dict(
    ann_file='mimic-cxr-2.0.0-split.csv.gz',
    metadata_file='mimic-cxr-2.0.0-metadata.csv.gz',
    label_file='mimic-cxr-2.0.0-negbio.csv.gz',
    data_prefix='files',
    task='abnormal',
    views=('AP', 'PA'),
)

# ImageNet statistics (MIMIC MAE-ViT seed), in 0-255 units.
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
        scale=(0.08, 1.0),
        flip_prob=0.5,
        interpolation='bicubic',
    ),
    dict(
        type='RandAugment',
        policies='timm_increasing',
        num_policies=2,
        total_level=10,
        magnitude_level=9,
        magnitude_std=0.5,
        hparams=dict(pad_val=[124, 116, 104], interpolation='bicubic'),
    ),
    dict(
        type='RandomErasing',
        erase_prob=0.25,
        mode='rand',
        min_area_ratio=0.02,
        max_area_ratio=1 / 3,
        fill_color=[103.53, 116.28, 123.675],
        fill_std=[57.375, 57.12, 58.395],
    ),
    dict(type='PackInputs', meta_keys=_base_.cxr_meta_keys),
]

train_dataloader = dict(
    dataset=dict(
        type=dataset_type,
        data_root=data_root,
        split='train',
        pipeline=train_pipeline,
        **tables,
    ),
)
val_dataloader = dict(
    dataset=dict(
        type=dataset_type,
        data_root=data_root,
        split='val',
        **tables,
    ),
)
test_dataloader = dict(
    dataset=dict(
        type=dataset_type,
        data_root=data_root,
        split='test',
        **tables,
    ),
)
val_evaluator = dict(type='CXRClsMetrics')
test_evaluator = val_evaluator
