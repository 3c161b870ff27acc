# MIMIC-CXR normal / abnormal (MAE_ViT_MIMIC_CXR seed): frontal (AP/PA)
# images, abnormal = any explicit NegBio positive among 12 findings, official
# split (validate -> val). timm create_transform: RandomResizedCrop 224 +
# flip + RandAugment rand-m9-mstd0.5-inc1 + RandomErasing (pixel mode, p set
# by the leaf config); eval Resize 256 + CenterCrop 224; ImageNet mean/std.
dataset_type = 'MIMICCXR'
data_root = 'data/mimic_cxr/'
data_preprocessor = dict(
    num_classes=2, mean=[123.675, 116.28, 103.53], std=[58.395, 57.12, 57.375],
    to_rgb=False)
train_pipeline = [
    dict(type='LoadXRayImage', to_rgb=True),
    dict(type='RandomResizedCrop', scale=224, backend='pillow',
         interpolation='bicubic'),
    dict(type='RandomFlip', prob=0.5, direction='horizontal'),
    dict(type='RandAugment', policies='timm_increasing', num_policies=2,
         total_level=10, magnitude_level=9, magnitude_std=0.5,
         hparams=dict(pad_val=[124, 116, 104], interpolation='bicubic')),
    dict(type='RandomErasing', erase_prob=0.25, mode='rand',
         min_area_ratio=0.02, max_area_ratio=1 / 3,
         fill_color=[103.53, 116.28, 123.675], fill_std=[57.375, 57.12, 58.395]),
    dict(type='PackInputs'),
]
test_pipeline = [
    dict(type='LoadXRayImage', to_rgb=True),
    dict(type='ResizeEdge', scale=256, edge='short', backend='pillow',
         interpolation='bicubic'),
    dict(type='CenterCrop', crop_size=224),
    dict(type='PackInputs'),
]
common = dict(type=dataset_type, data_root=data_root,
              ann_file='mimic-cxr-2.0.0-split.csv.gz',
              metadata_file='mimic-cxr-2.0.0-metadata.csv.gz',
              label_file='mimic-cxr-2.0.0-negbio.csv.gz', task='abnormal',
              data_prefix=dict(img_path='files/'))
train_dataloader = dict(
    batch_size=32,
    num_workers=8,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=True),
    dataset=dict(**common, split='train', pipeline=train_pipeline),
)
val_dataloader = dict(
    batch_size=64,
    num_workers=8,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(**common, split='val', test_mode=True, pipeline=test_pipeline),
)
test_dataloader = dict(
    val_dataloader,
    dataset=dict(**common, split='test', test_mode=True, pipeline=test_pipeline),
)
val_evaluator = dict(type='CXRClsMetrics')
test_evaluator = val_evaluator
