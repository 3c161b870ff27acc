# MIMIC-CXR normal/abnormal (configs/_base_/datasets/mimic-cxr-abnormal_224px.py)
# with the seed's timm transform: RandomResizedCrop 224 + flip + RandAugment
# rand-m9-mstd0.5-inc1 + RandomErasing (pixel mode; p set by the leaf, 0.25
# here), batch 32; CXRClsMetrics (accuracy, precision, recall, F1, AUC).
_base_ = ['../../../_base_/datasets/mimic-cxr-abnormal_224px.py']
train_pipeline = [
    dict(type='LoadXRayImage', to_rgb=True),
    dict(
        type='RandomResizedCrop', scale=224, backend='pillow', interpolation='bicubic'
    ),
    dict(type='RandomFlip', prob=0.5, direction='horizontal'),
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
    dict(type='PackInputs'),
]
train_dataloader = dict(batch_size=32, dataset=dict(pipeline=train_pipeline))
val_evaluator = dict(_delete_=True, type='CXRClsMetrics')
test_evaluator = dict(_delete_=True, type='CXRClsMetrics')
