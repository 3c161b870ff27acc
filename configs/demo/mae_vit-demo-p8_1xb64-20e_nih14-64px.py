# Demo step 1: MAE pretraining of a small ViT on the 1,000 embedded NIH images.
# Medical MAE recipe (AdamW 0.9/0.95, blr 1.5e-4, warmup + cosine, masked-patch
# MSE) shrunk to a 4-layer 128-d ViT on 64 px images with 8 px patches.
_base_ = [
    '../_base_/datasets/nih14-demo_64px.py',
    '../_base_/default_runtime_pretrain.py',
]

img_size = 64
patch_size = 8

model = dict(
    type='MAE',
    backbone=dict(
        type='MAEViT',
        arch=dict(embed_dims=128, num_layers=4, num_heads=4,
                  feedforward_channels=512),
        img_size=img_size,
        patch_size=patch_size,
        mask_ratio=0.75,
    ),
    neck=dict(
        type='MAEPretrainDecoder',
        num_patches=(img_size // patch_size) ** 2,
        patch_size=patch_size,
        in_chans=3,
        embed_dim=128,
        decoder_embed_dim=128,
        decoder_depth=2,
        decoder_num_heads=4,
        mlp_ratio=4.0,
    ),
    head=dict(
        type='MAEPretrainHead',
        norm_pix=False,
        patch_size=patch_size,
        loss=dict(type='PixelReconstructionLoss', criterion='L2'),
    ),
    init_cfg=[
        dict(type='Xavier', layer='Linear', distribution='uniform'),
        dict(type='Constant', layer='LayerNorm', val=1.0, bias=0.0),
    ],
)

# Pretraining reads the training patients of the demo's patient-disjoint split.
data_preprocessor = dict(
    _delete_=True, type='SelfSupDataPreprocessor', mean=[128.928] * 3,
    std=[64.26] * 3, to_rgb=False)
train_dataloader = dict(
    batch_size=64, collate_fn=dict(type='default_collate'))
val_dataloader = None
val_evaluator = None
val_cfg = None
test_dataloader = None
test_evaluator = None
test_cfg = None

optim_wrapper = dict(
    type='OptimWrapper',
    # blr 1.5e-3 (10x the seed's): the demo trains for a few hundred steps.
    optimizer=dict(type='AdamW', lr=1.5e-3 * 64 / 256, betas=(0.9, 0.95),
                   weight_decay=0.05),
    paramwise_cfg=dict(custom_keys={
        'ln': dict(decay_mult=0.0),
        'bias': dict(decay_mult=0.0),
        'pos_embed': dict(decay_mult=0.0),
        'mask_token': dict(decay_mult=0.0),
        'cls_token': dict(decay_mult=0.0),
    }),
)
max_epochs = 20
param_scheduler = [
    dict(type='LinearLR', start_factor=1e-3, by_epoch=True, begin=0, end=2,
         convert_to_iter_based=True),
    dict(type='CosineAnnealingLR', T_max=max_epochs - 2, by_epoch=True, begin=2,
         end=max_epochs, convert_to_iter_based=True),
]
train_cfg = dict(type='EpochBasedTrainLoop', max_epochs=max_epochs)
default_hooks = dict(
    logger=dict(interval=5),
    checkpoint=dict(type='CheckpointHook', interval=10, max_keep_ckpts=1),
)
auto_scale_lr = dict(base_batch_size=256)
