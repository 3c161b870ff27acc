# NIH ChestX-ray14, official patient-disjoint split as medical_mae / EVA-X ship
# it (data_splits/chestxray/{train,val,test}_official.txt: `<png> <14 x 0/1>`,
# 75,312 / 11,212 / 25,596). Medical MAE's timm transform: RandomResizedCrop
# 224 (scale 0.08-1, bicubic) + flip + RandAugment rand-m6-mstd0.5-inc1;
# eval Resize 256 + CenterCrop 224; NIH mean/std 0.5056/0.252.
dataset_type = 'NIHChestXray14'
data_root = 'data/nih_cxr14/'
data_preprocessor = dict(
    num_classes=14, mean=[128.93] * 3, std=[64.26] * 3, to_rgb=False)
rand_augment = dict(
    type='RandAugment', policies='timm_increasing', num_policies=2,
    total_level=10, magnitude_level=6, magnitude_std=0.5,
    hparams=dict(pad_val=[129, 129, 129], interpolation='bicubic'))
train_pipeline = [
    dict(type='LoadXRayImage', to_rgb=True),
    dict(type='RandomResizedCrop', scale=224, backend='pillow',
         interpolation='bicubic'),
    dict(type='RandomFlip', prob=0.5, direction='horizontal'),
    rand_augment,
    dict(type='PackInputs'),
]
test_pipeline = [
    dict(type='LoadXRayImage', to_rgb=True),
    dict(type='ResizeEdge', scale=256, edge='short', backend='pillow',
         interpolation='bicubic'),
    dict(type='CenterCrop', crop_size=224),
    dict(type='PackInputs'),
]
train_dataloader = dict(
    batch_size=128,
    num_workers=8,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=True),
    dataset=dict(type=dataset_type, data_root=data_root,
                 ann_file='splits/train_official.txt',
                 data_prefix=dict(img_path='images/'), pipeline=train_pipeline),
)
val_dataloader = dict(
    batch_size=256,
    num_workers=8,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(type=dataset_type, data_root=data_root,
                 ann_file='splits/val_official.txt',
                 data_prefix=dict(img_path='images/'), test_mode=True,
                 pipeline=test_pipeline),
)
test_dataloader = dict(
    val_dataloader,
    dataset=dict(type=dataset_type, data_root=data_root,
                 ann_file='splits/test_official.txt',
                 data_prefix=dict(img_path='images/'), test_mode=True,
                 pipeline=test_pipeline),
)
val_evaluator = dict(type='MultiLabelAUC')
test_evaluator = dict(type='MultiLabelAUC', bootstrap=1000)
