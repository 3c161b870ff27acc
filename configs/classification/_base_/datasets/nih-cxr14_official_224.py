# NIH ChestX-ray14 official split (configs/_base_/datasets/nih-cxr14_224px.py)
# with Medical MAE's timm training transform: RandomResizedCrop 224 (scale
# 0.08-1, bicubic) + flip + RandAugment rand-m6-mstd0.5-inc1. The test
# evaluator adds a 1,000-resample bootstrap 95% CI.
_base_ = ['../../../_base_/datasets/nih-cxr14_224px.py']
rand_augment_m6 = dict(
    type='RandAugment',
    policies='timm_increasing',
    num_policies=2,
    total_level=10,
    magnitude_level=6,
    magnitude_std=0.5,
    hparams=dict(pad_val=[129, 129, 129], interpolation='bicubic'),
)
train_pipeline = [
    dict(type='LoadXRayImage', to_rgb=True),
    dict(
        type='RandomResizedCrop', scale=224, backend='pillow', interpolation='bicubic'
    ),
    dict(type='RandomFlip', prob=0.5, direction='horizontal'),
    rand_augment_m6,
    dict(type='PackInputs'),
]
train_dataloader = dict(batch_size=128, dataset=dict(pipeline=train_pipeline))
test_evaluator = dict(type='MultiLabelAUC', bootstrap=1000)
