# CPU demo of MSMAE on the 1,000 embedded NIH images (training patients of the
# seeded patient-level re-split): 4-layer 128-d ViT, 64 px, 8 px patches,
# 128-d 2-block decoder. The supervised CLS head uses the 14 NIH findings
# (multi-label BCE, see msmae.classification_loss). Random masking for 10
# epochs, then attention masking/throwing with maps refreshed every 10 epochs.
_base_ = [
    '../../_base_/models/pretrain_msmae_vit-base-p16_dec512d8b.py',
    '../../_base_/datasets/pretrain_nih14-demo_64px.py',
    '../../_base_/schedules/pretrain_adamw_warmup-cosine.py',
    '../../_base_/default_runtime_pretrain.py',
]
img_size = 64
patch_size = 8
model = dict(
    num_classes=14,
    # NIH statistics (Medical MAE), 0-255 units.
    data_preprocessor=dict(mean=[128.9] * 3, std=[64.3] * 3),
    backbone=dict(arch='demo', img_size=img_size, patch_size=patch_size),
    neck=dict(
        num_patches=(img_size // patch_size) ** 2,
        patch_size=patch_size,
        embed_dim=128,
        decoder_embed_dim=128,
        decoder_depth=2,
        decoder_num_heads=4,
    ),
    head=dict(patch_size=patch_size),
)
train_pipeline = [
    dict(type='LoadXRayImage'),
    dict(
        type='MSMAERandomResizedCrop',
        scale=img_size,
        crop_ratio_range=(0.5, 1.0),
        backend='pillow',
        interpolation='bicubic',
    ),
    dict(type='RandomFlip', prob=0.5, direction='horizontal'),
    dict(type='PackInputs', meta_keys=('sample_idx', 'img_path', 'crop_box', 'flip')),
]
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
train_dataloader = dict(dataset=dict(pipeline=train_pipeline))
# Keep the runtime base's NaNGuardHook and RNGStateHook (a plain list replaced them).
custom_hooks = [
    dict(
        type='MSMAEAttentionHook',
        pipeline=attention_pipeline,
        warmup_epochs=10,
        interval=10,
        batch_size=100,
        num_workers=0,
    ),
    *_base_.custom_hooks,
]
# Seed blr (1e-3 per 256 images, auto-scaled to the batch of 32).
base_lr = 1e-3
warmup_epochs = 3
max_epochs = 30
optim_wrapper = dict(optimizer=dict(lr=base_lr))
param_scheduler = [
    dict(_base_.param_scheduler[0], start_factor=1e-3, end=warmup_epochs),
    dict(_base_.param_scheduler[1], begin=warmup_epochs, end=max_epochs),
]
train_cfg = dict(max_epochs=max_epochs)
default_hooks = dict(
    logger=dict(interval=5), checkpoint=dict(interval=10, max_keep_ckpts=1)
)
