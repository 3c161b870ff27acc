# MAE ViT-B/16 normal/abnormal on MIMIC-CXR (MAE_ViT_MIMIC_CXR seed,
# `mae_with_augmentation_prob_025`): timm RandAug m9 + RandomErasing p 0.25,
# AdamW lr 1e-6, no scheduler, 20 epochs, batch 32, cross-entropy; accuracy,
# precision, recall, F1, AUC. Unlike the seed (a linear layer on the MAE
# decoder's pixel output of patch 0, under 75% random masking), the classifier
# reads the unmasked encoder (global pool + fc_norm). Seed: val AUC 0.809.
_base_ = [
    '../../_base_/models/cls_cxr-vit-small-p16_multilabel.py',
    '../../_base_/datasets/cls_mimic-cxr-abnormal_224px.py',
    '../../_base_/schedules/cls_adamw_constant.py',
    '../../_base_/default_runtime_cls.py',
]
model = dict(
    backbone=dict(
        arch='base',
        drop_path_rate=0.0,
        init_cfg=dict(
            type='CXRPretrained',
            checkpoint='checkpoints/mae_vit-base-p16_in1k.pth',
            prefix='backbone.',
            # Fresh fc_norm (weight 1, bias 0), as the seeds fine-tune: the
            # converter drops the pretraining final norm (docs/model_zoo.md).
            allowed_missing=['ln2.*'],
        ),
    ),
    head=dict(
        _delete_=True,
        type='LinearClsHead',
        num_classes=2,
        in_channels=768,
        loss=dict(type='CrossEntropyLoss'),
    ),
)
train_dataloader = dict(batch_size=32)
default_hooks = dict(
    checkpoint=dict(interval=1, max_keep_ckpts=1, save_best='cls/auc', rule='greater')
)
