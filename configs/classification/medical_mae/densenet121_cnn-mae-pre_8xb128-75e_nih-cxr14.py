# Medical MAE DenseNet-121 on NIH ChestX-ray14: the ViT-S recipe without
# layer decay and drop path (plain AdamW groups: no decay on norms / biases),
# initialised from the CNN-MAE encoder (smp `model.encoder.*` -> torchvision
# `features.*`). Seed: 81.2 test mAUC (X-ray MAE), 82.2 ImageNet.
_base_ = [
    '../../_base_/models/cls_densenet121_multilabel.py',
    '../../_base_/datasets/cls_nih-cxr14_224px.py',
    '../../_base_/schedules/cls_adamw_warmup-cosine_cnn.py',
    '../../_base_/default_runtime_cls.py',
]
model = dict(
    backbone=dict(
        init_cfg=dict(
            type='CXRPretrained',
            checkpoint='checkpoints/medmae_densenet121_cnn-mae.pth',
            prefix='backbone.',
        )
    )
)
train_dataloader = dict(batch_size=128)
default_hooks = dict(
    checkpoint=dict(interval=1, max_keep_ckpts=1, save_best='auc/mAUC', rule='greater')
)
