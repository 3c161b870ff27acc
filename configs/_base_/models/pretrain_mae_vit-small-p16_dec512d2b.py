# Medical MAE ViT-S/16 with a 512-d, 2-block decoder (mae_vit_small_patch16_dec512d2b,
# https://arxiv.org/abs/2210.12843). mmpretrain's MAE pieces; CXRMAE only adds
# `reconstruct()` for figures. Encoder weights load into CXRViT(arch='small')
# with init_cfg prefix 'backbone.' (or after tools/export_backbone.py).
img_size = 224
patch_size = 16
model = dict(
    type='CXRMAE',
    data_preprocessor=dict(
        type='SelfSupDataPreprocessor',
        # NIH ChestX-ray14 statistics used by Medical MAE (0.5056 / 0.252).
        mean=[128.9] * 3,
        std=[64.3] * 3,
        to_rgb=False,
    ),
    backbone=dict(
        type='MAEViT',
        arch=dict(
            embed_dims=384, num_layers=12, num_heads=6, feedforward_channels=1536
        ),
        img_size=img_size,
        patch_size=patch_size,
        mask_ratio=0.9,
    ),
    neck=dict(
        type='MAEPretrainDecoder',
        num_patches=(img_size // patch_size) ** 2,
        patch_size=patch_size,
        in_chans=3,
        embed_dim=384,
        decoder_embed_dim=512,
        decoder_depth=2,
        decoder_num_heads=16,
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
