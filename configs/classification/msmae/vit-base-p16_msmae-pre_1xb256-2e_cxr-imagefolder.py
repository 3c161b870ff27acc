# MSMAE ViT-B/16 fine-tuning on an ImageFolder set (arXiv:2305.05871,
# main_finetune.py defaults + README batch 256): blr 1e-3 x 256 / 256, layer
# decay 0.75, wd 0.05, warmup 5, min lr 1e-6, drop path 0.1, label smoothing
# 0.1, global pool + fc_norm, 2 epochs (the script default). The SAM
# (attention-driven masking) part of MSMAE fine-tuning is not in this config.
# Seed: ChestXRay2017 99.60 accuracy (max over epochs on val there).
_base_ = [
    '../../_base_/models/cls_cxr-vit-small-p16_multilabel.py',
    '../../_base_/datasets/cls_cxr-imagefolder_224px.py',
    '../../_base_/schedules/cls_adamw_layer-decay_warmup-cosine.py',
    '../../_base_/default_runtime_cls.py',
]
model = dict(
    backbone=dict(
        arch='base',
        drop_path_rate=0.1,
        init_cfg=dict(
            type='CXRPretrained',
            checkpoint='checkpoints/msmae_vit-base-p16.pth',
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
        loss=dict(type='LabelSmoothLoss', label_smooth_val=0.1, mode='original'),
        init_cfg=dict(type='TruncNormal', layer='Linear', std=2e-5),
    ),
)
train_dataloader = dict(batch_size=256)
# MSMAE evaluates on transforms.Resize((224, 224)): torchvision's default
# bilinear interpolation.
test_pipeline = [
    dict(type='LoadXRayImage', to_rgb=True),
    dict(type='Resize', scale=(224, 224), backend='pillow', interpolation='bilinear'),
    dict(type='PackInputs'),
]
val_dataloader = dict(dataset=dict(pipeline=test_pipeline))
test_dataloader = dict(dataset=dict(pipeline=test_pipeline))
optim_wrapper = dict(
    optimizer=dict(lr=1e-3 * 256 / 256), paramwise_cfg=dict(layer_decay_rate=0.75)
)
max_epochs = 2
warmup_epochs = 1
param_scheduler = [
    dict(_base_.param_scheduler[0], end=warmup_epochs),
    dict(
        _base_.param_scheduler[1],
        begin=warmup_epochs,
        eta_min_ratio=1e-3,
        end=max_epochs,
    ),
]
train_cfg = dict(max_epochs=max_epochs, val_interval=1)
auto_scale_lr = dict(base_batch_size=256)
default_hooks = dict(
    checkpoint=dict(
        interval=1, max_keep_ckpts=1, save_best='cls/accuracy', rule='greater'
    )
)
