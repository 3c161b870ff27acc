# MSMAE ViT-B/16 with MAE's 512-d, 8-block, 16-head decoder
# (https://arxiv.org/abs/2305.05871, Talented-Q/MSMAE main_pretrain.py):
# mask 0.45 + throw 0.3 once attention maps exist (random 0.75 before),
# loss = masked MSE (no norm_pix) + 0.1 x CLS classification loss.
img_size = 224
patch_size = 16
model = dict(
    type='MSMAE',
    num_classes=2,
    mask_ratio=0.45,
    throw_ratio=0.3,
    warmup_mask_ratio=0.75,
    cls_loss_weight=0.1,
    data_preprocessor=dict(
        type='SelfSupDataPreprocessor',
        # ImageNet statistics, as the MSMAE release uses.
        mean=[123.675, 116.28, 103.53],
        std=[58.395, 57.12, 57.375],
        to_rgb=False,
    ),
    backbone=dict(type='MSMAEViT', arch='b', img_size=img_size, patch_size=patch_size),
    neck=dict(
        type='MSMAEPretrainDecoder',
        num_patches=(img_size // patch_size) ** 2,
        patch_size=patch_size,
        in_chans=3,
        embed_dim=768,
        decoder_embed_dim=512,
        decoder_depth=8,
        decoder_num_heads=16,
        mlp_ratio=4.0,
    ),
    head=dict(
        type='MSMAEPretrainHead',
        norm_pix=False,
        patch_size=patch_size,
        loss=dict(type='PixelReconstructionLoss', criterion='L2'),
    ),
    init_cfg=[
        dict(type='Xavier', layer='Linear', distribution='uniform'),
        dict(type='Constant', layer='LayerNorm', val=1.0, bias=0.0),
    ],
)
