# EVA-X-Ti/16 on CheXpert, 5 classes (chexpert/vit_ti.sh): 4 x 256, 100 "fake"
# epochs of 1/20 of the data = 5 real epochs here, no warmup, drop path 0.2,
# --stop_grad_conv1 (detached patch embedding). Not reproduced: the seed's
# --use_smooth_label (uncertain labels drawn from U(0.7,0.8)/U(0.2,0.3));
# the dataset's U-Ones/U-Zeros policy is used; and the seed's Ti/S CheXpert
# scripts train without augmentation (we keep the base crop + flip). Test at
# 224/224 as the seed (Resize 224 + CenterCrop 224). Seed: 89.6 mAUC.
_base_ = [
    '../../_base_/models/cls_evax-small-p16_multilabel.py',
    '../../_base_/datasets/cls_chexpert_224px.py',
    '../../_base_/schedules/cls_adamw_layer-decay_warmup-constant.py',
    '../../_base_/default_runtime_cls.py',
]
model = dict(
    backbone=dict(
        arch='tiny',
        stop_grad_patch_embed=True,
        init_cfg=dict(
            type='CXRPretrained',
            checkpoint='checkpoints/eva_x_tiny_patch16_merged520k_mim.pth',
            prefix='backbone.',
            # Fresh fc_norm (weight 1, bias 0), as EVA-X's train.py: the
            # converter drops the MIM final norm (docs/model_zoo.md).
            allowed_missing=['fc_norm.*'],
        ),
    ),
    head=dict(num_classes=5, in_channels=192),
)
# EVA-X image statistics (0.49185 / 0.28509), in 0-255 units.
data_preprocessor = dict(mean=[125.42] * 3, std=[72.70] * 3)
train_dataloader = dict(batch_size=256)
param_scheduler = []
max_epochs = 5
train_cfg = dict(max_epochs=max_epochs, val_interval=1)
default_hooks = dict(
    checkpoint=dict(interval=1, max_keep_ckpts=1, save_best='auc/mAUC', rule='greater')
)
test_pipeline = [
    dict(type='LoadXRayImage', to_rgb=True),
    dict(
        type='ResizeEdge',
        scale=224,
        edge='short',
        backend='pillow',
        interpolation='bicubic',
    ),
    dict(type='CenterCrop', crop_size=224),
    dict(type='PackInputs'),
]
val_dataloader = dict(dataset=dict(pipeline=test_pipeline))
test_dataloader = dict(dataset=dict(pipeline=test_pipeline))
