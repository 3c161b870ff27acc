# MSMAE pretraining as released (Talented-Q/MSMAE README): ViT-B/16, 1 GPU x 64,
# 300 epochs, blr 1e-3 (lr = blr x 64 / 256), 40 warmup epochs, mask 0.45,
# throw 0.3; attention maps refreshed every 40 epochs from epoch 40
# (random 0.75 masking before). Data: ImageFolder `<data_root>/train/<class>/*`.
_base_ = [
    '../../_base_/models/pretrain_msmae_vit-base-p16_dec512d8b.py',
    '../../_base_/schedules/pretrain_adamw_warmup-cosine.py',
    '../../_base_/default_runtime_pretrain.py',
]
data_root = 'data/msmae_imagefolder/'
img_size = 224
model = dict(num_classes=2)

train_pipeline = [
    dict(type='LoadXRayImage'),
    dict(
        type='MSMAERandomResizedCrop',
        scale=img_size,
        crop_ratio_range=(0.2, 1.0),
        backend='pillow',
        interpolation='bicubic',
    ),
    dict(type='RandomFlip', prob=0.5, direction='horizontal'),
    dict(type='PackInputs', meta_keys=('sample_idx', 'img_path', 'crop_box', 'flip')),
]
# Deterministic pass for the attention maps: resize, no crop, no flip.
attention_pipeline = [
    dict(type='LoadXRayImage'),
    dict(
        type='Resize',
        scale=(img_size, img_size),
        backend='pillow',
        interpolation='bicubic',
    ),
    dict(type='PackInputs', meta_keys=('sample_idx',)),
]
train_dataloader = dict(
    batch_size=64,
    num_workers=8,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=True),
    collate_fn=dict(type='default_collate'),
    dataset=dict(
        type='CXRImageFolder',
        data_root=data_root,
        split='train',
        pipeline=train_pipeline,
    ),
)
# Keep the runtime base's NaNGuardHook and RNGStateHook (a plain list replaced them).
custom_hooks = [
    dict(
        type='MSMAEAttentionHook',
        pipeline=attention_pipeline,
        warmup_epochs=40,
        interval=40,
        batch_size=256,
        num_workers=8,
    ),
    *_base_.custom_hooks,
]

base_lr = 1e-3
warmup_epochs = 40
max_epochs = 300
optim_wrapper = dict(optimizer=dict(lr=base_lr))
param_scheduler = [
    _base_.param_scheduler[0],
    dict(_base_.param_scheduler[1], end=max_epochs),
]
train_cfg = dict(max_epochs=max_epochs)
