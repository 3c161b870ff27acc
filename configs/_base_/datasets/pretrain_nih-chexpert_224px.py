# Medical MAE pretraining data "0.3M": NIH ChestX-ray14 (official train list,
# as configs/_base_/datasets/cls_nih-cxr14_224px.py) + CheXpert (train.csv, frontal),
# RandomResizedCrop(224, scale 0.5-1, bicubic) + flip
# (https://arxiv.org/abs/2210.12843, PRETRAIN.md). Point the roots elsewhere with
# --cfg-options. One normalisation for all sources (NIH 0.5056/0.252, in the
# model's data_preprocessor); the seed used ImageNet statistics for CheXpert/MIMIC.
train_pipeline = [
    dict(
        type='FastXRayRandomResizedCrop',
        size=224,
        scale=(0.5, 1.0),
        flip_prob=0.5,
        interpolation='bicubic',
    ),
    dict(type='PackInputs'),
]
nih_train = dict(
    type='NIHChestXray14',
    data_root='data/nih-cxr14/',
    ann_file='train_official.txt',
    data_prefix='images',
    pipeline=train_pipeline,
)
chexpert_train = dict(
    type='CheXpert',
    data_root='data/chexpert/',
    ann_file='CheXpert-v1.0-small/train.csv',
    frontal_only=True,
    pipeline=train_pipeline,
)
train_dataloader = dict(
    batch_size=256,
    num_workers=10,
    persistent_workers=True,
    pin_memory=True,
    sampler=dict(type='DefaultSampler', shuffle=True),
    collate_fn=dict(type='default_collate'),
    dataset=dict(type='ConcatDataset', datasets=[nih_train, chexpert_train]),
)
