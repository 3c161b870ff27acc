# MRM (https://arxiv.org/abs/2301.13155, RL4M/MRM-pytorch model_mrm.py): MAE
# ViT-B/16 on the 448 crop resized to 224, mask 0.75; a 768-d, 4-layer, 6-head
# decoder predicts the 32x32 patches of the 448 image (norm_pix_loss); a
# 384-d, 6-layer, 6-head BERT (FFN 1536, 100 positions) reconstructs the
# whole-word-masked report. Losses summed 1:1.
encoder_size = 224
target_size = 448
model = dict(
    type='MRM',
    encoder_size=encoder_size,
    data_preprocessor=dict(
        type='SelfSupDataPreprocessor',
        # MRM normalisation 0.4978 / 0.2449, in 0-255 units.
        mean=[126.94] * 3,
        std=[62.45] * 3,
        to_rgb=False,
    ),
    backbone=dict(
        type='MRMViT', arch='b', img_size=encoder_size, patch_size=16, mask_ratio=0.75
    ),
    neck=dict(
        type='MAEPretrainDecoder',
        num_patches=(encoder_size // 16) ** 2,
        patch_size=target_size // (encoder_size // 16),
        in_chans=3,
        embed_dim=768,
        decoder_embed_dim=768,
        decoder_depth=4,
        decoder_num_heads=6,
        mlp_ratio=4.0,
    ),
    head=dict(
        type='MAEPretrainHead',
        norm_pix=True,
        patch_size=target_size // (encoder_size // 16),
        loss=dict(type='PixelReconstructionLoss', criterion='L2'),
    ),
    text_encoder=dict(
        type='MRMReportEncoder',
        vocab_size=30000,
        hidden_dims=384,
        num_layers=6,
        num_heads=6,
        feedforward_channels=1536,
        max_positions=100,
    ),
    init_cfg=[
        dict(type='Xavier', layer='Linear', distribution='uniform'),
        dict(type='Constant', layer='LayerNorm', val=1.0, bias=0.0),
    ],
)
