# CPU demo of Medical MAE on the 1,000 embedded NIH images: a 4-layer 128-d ViT,
# 64 px, 8 px patches, 128-d 2-block decoder, mask ratio 0.75, 30 epochs.
_base_ = [
    '../../_base_/models/pretrain_mae_vit-small-p16_dec512d2b.py',
    '../../_base_/datasets/pretrain_nih14-demo_64px.py',
    '../../_base_/schedules/pretrain_adamw_warmup-cosine.py',
    '../../_base_/default_runtime_pretrain.py',
]
img_size = 64
patch_size = 8
model = dict(
    backbone=dict(
        arch=dict(embed_dims=128, num_layers=4, num_heads=4, feedforward_channels=512),
        img_size=img_size,
        patch_size=patch_size,
        mask_ratio=0.75,
    ),
    neck=dict(
        num_patches=(img_size // patch_size) ** 2,
        patch_size=patch_size,
        embed_dim=128,
        decoder_embed_dim=128,
        decoder_num_heads=4,
    ),
    head=dict(patch_size=patch_size),
)
# blr 10x the seed's: the demo runs for a few hundred steps only.
optim_wrapper = dict(optimizer=dict(lr=1.5e-3))
warmup_epochs = 3
max_epochs = 30
param_scheduler = [
    dict(_base_.param_scheduler[0], start_factor=1e-3, end=warmup_epochs),
    dict(_base_.param_scheduler[1], begin=warmup_epochs, end=max_epochs),
]
train_cfg = dict(max_epochs=max_epochs)
default_hooks = dict(
    logger=dict(interval=5), checkpoint=dict(interval=10, max_keep_ckpts=1)
)
