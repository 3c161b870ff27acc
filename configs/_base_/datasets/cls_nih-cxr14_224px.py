_base_ = ['./cls_common_224px.py']

# NIH ChestX-ray14 at 224 px with the official split as medical_mae / EVA-X
# ship it (<png> <14 x 0/1> lists, 75,312 / 11,212 / 25,596 images). For MRM's
# random split use ann_file='mrm_splits/{train_list,val_list,test_list}.txt'
# (and train_1/train_10 for 1 % / 10 %), or fraction=0.01/0.1. Training uses
# Medical MAE's timm transform: RandomResizedCrop 224 (scale 0.08-1, bicubic) +
# flip + RandAugment rand-m6-mstd0.5-inc1; the test evaluator adds a
# 1,000-resample bootstrap 95% CI.
dataset_type = 'NIHChestXray14'
data_root = 'data/nih-cxr14/'

# NIH statistics of medical_mae (arXiv:2210.12843), in 0-255 units.
data_preprocessor = dict(
    num_classes=14, mean=[128.928] * 3, std=[64.26] * 3, to_rgb=False
)

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
    dict(
        type='FastXRayRandomResizedCrop',
        size=224,
        scale=(0.08, 1.0),
        flip_prob=0.5,
        interpolation='bicubic',
    ),
    rand_augment_m6,
    dict(type='PackInputs', meta_keys=_base_.cxr_meta_keys),
]

train_dataloader = dict(
    dataset=dict(
        type=dataset_type,
        data_root=data_root,
        ann_file='train_official.txt',
        data_prefix='images',
        pipeline=train_pipeline,
    ),
)
val_dataloader = dict(
    dataset=dict(
        type=dataset_type,
        data_root=data_root,
        ann_file='val_official.txt',
        data_prefix='images',
    ),
)
test_dataloader = dict(
    dataset=dict(
        type=dataset_type,
        data_root=data_root,
        ann_file='test_official.txt',
        data_prefix='images',
    ),
)
test_evaluator = dict(type='MultiLabelAUC', bootstrap=1000)
