# UperNet on EVA-X's last block through a ViTDet simple pyramid, as in EVA-X's
# segmentation recipe (https://arxiv.org/abs/2405.05237): the same EVA-02 ViT
# as its classifier (SwiGLU, 2-D RoPE, here EVA-X-S), 512 px (position
# embedding resampled on load, RoPE evaluated on the 32x32 grid), one sigmoid
# output channel with binary cross-entropy, no auxiliary head.
norm_cfg = dict(type='BN', requires_grad=True)
data_preprocessor = dict(
    type='SegDataPreProcessor',
    mean=[125.42, 125.42, 125.42],  # EVA-X normalisation 0.49185 / 0.28509
    std=[72.70, 72.70, 72.70],
    bgr_to_rgb=True,
    pad_val=0,
    seg_pad_val=255,
    size=(512, 512),
)
model = dict(
    type='EncoderDecoder',
    data_preprocessor=data_preprocessor,
    backbone=dict(
        type='mmpretrain.EVAX',
        arch='small',
        img_size=512,
        patch_size=16,
        drop_path_rate=0.15,
        out_type='featmap',
        out_indices=(11,),
    ),
    neck=dict(
        type='SimpleFeaturePyramid',
        embed_dim=384,
        rescales=(4, 2, 1, 0.5),
        norm_cfg=norm_cfg,
    ),
    decode_head=dict(
        type='UPerHead',
        in_channels=[384, 384, 384, 384],
        in_index=[0, 1, 2, 3],
        pool_scales=(1, 2, 3, 6),
        channels=256,
        dropout_ratio=0.1,
        num_classes=2,
        out_channels=1,
        threshold=0.5,
        norm_cfg=norm_cfg,
        align_corners=False,
        loss_decode=dict(type='CrossEntropyLoss', use_sigmoid=True, loss_weight=1.0),
    ),
    train_cfg=dict(),
    test_cfg=dict(mode='whole'),
)
