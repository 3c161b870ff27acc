# MRM ViT-B/16 fine-tuning on NIH ChestX-ray14, MRM's patient-disjoint random
# split with 10% of the training labels (arXiv:2301.13155, NIH_ChestX-ray/*.sh):
# 1 x 96, 224 px, SGD 0.9, lr 3e-3, warmup 500, 30k steps, cosine, no wd,
# clip 1.0, drop path 0.1, BCE, RandomResizedCrop + flip; best val AUC.
# Seed (MaCo Table 1): 84.0 test mAUC (1%: 79.4, 100%: 85.9).
_base_ = [
    '../../_base_/models/cls_cxr-vit-small-p16_multilabel.py',
    '../../_base_/datasets/cls_nih-cxr14_224px.py',
    '../../_base_/schedules/cls_sgd_warmup-cosine_iter.py',
    '../../_base_/default_runtime_cls.py',
]
model = dict(
    backbone=dict(
        arch='base',
        drop_path_rate=0.1,
        init_cfg=dict(
            type='CXRPretrained',
            checkpoint='checkpoints/mrm_vit-base-p16.pth',
            prefix='backbone.',
            # Fresh fc_norm (weight 1, bias 0), as the seeds fine-tune: the
            # converter drops the pretraining final norm (docs/model_zoo.md).
            allowed_missing=['ln2.*'],
        ),
    ),
    head=dict(in_channels=768),
)
# MRM image statistics.
data_preprocessor = dict(mean=[126.94] * 3, std=[62.45] * 3)
# MRM's torchvision transforms: RandomResizedCrop(224) at its default bilinear
# interpolation; test Resize(224) (short edge) + CenterCrop(224), bilinear.
train_pipeline = [
    dict(
        type='FastXRayRandomResizedCrop',
        size=224,
        scale=(0.08, 1.0),
        flip_prob=0.5,
        interpolation='bilinear',
    ),
    dict(type='PackInputs'),
]
test_pipeline = [
    dict(type='LoadXRayImage', to_rgb=True),
    dict(
        type='ResizeEdge',
        scale=224,
        edge='short',
        backend='pillow',
        interpolation='bilinear',
    ),
    dict(type='CenterCrop', crop_size=224),
    dict(type='PackInputs'),
]
train_dataloader = dict(
    batch_size=96,
    dataset=dict(ann_file='mrm_splits/train_10.txt', pipeline=train_pipeline),
)
val_dataloader = dict(
    dataset=dict(ann_file='mrm_splits/val_list.txt', pipeline=test_pipeline)
)
test_dataloader = dict(
    dataset=dict(ann_file='mrm_splits/test_list.txt', pipeline=test_pipeline)
)
default_hooks = dict(
    checkpoint=dict(
        by_epoch=False,
        interval=1000,
        max_keep_ckpts=1,
        save_best='auc/mAUC',
        rule='greater',
    )
)
log_processor = dict(by_epoch=False)
