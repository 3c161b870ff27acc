# UperNet on a plain ViT (CXRViT) with Feature2Pyramid, as in MRM's SIIM
# recipe (https://arxiv.org/abs/2301.13155): blocks 3/5/7/11 rescaled x4, x2,
# x1, x0.5; focal + Dice losses on the decode and the auxiliary FCN head.
norm_cfg = dict(type='BN', requires_grad=True)  # BN, not SyncBN: CPU runs
data_preprocessor = dict(
    type='SegDataPreProcessor',
    mean=[126.94, 126.94, 126.94],  # MRM normalisation 0.4978 / 0.2449
    std=[62.45, 62.45, 62.45],
    bgr_to_rgb=True,
    pad_val=0,
    seg_pad_val=255,
    size=(512, 512),
)
model = dict(
    type='EncoderDecoder',
    data_preprocessor=data_preprocessor,
    backbone=dict(
        type='mmpretrain.CXRViT',
        arch='base',
        img_size=512,
        patch_size=16,
        drop_path_rate=0.1,
        out_type='featmap',
        out_indices=(3, 5, 7, 11),
        final_norm=False,
    ),
    neck=dict(
        type='Feature2Pyramid',
        embed_dim=768,
        rescales=[4, 2, 1, 0.5],
        norm_cfg=norm_cfg,
    ),
    decode_head=dict(
        type='UPerHead',
        in_channels=[768, 768, 768, 768],
        in_index=[0, 1, 2, 3],
        pool_scales=(1, 2, 3, 6),
        channels=768,
        dropout_ratio=0.1,
        num_classes=2,
        norm_cfg=norm_cfg,
        align_corners=False,
        loss_decode=[
            dict(type='CXRFocalLoss', use_sigmoid=True, loss_weight=2.0),
            # ignore_index=0 drops the background channel from the Dice:
            # mmseg 1.x's equivalent of MRM's class_weight=[0, 1].
            dict(type='DiceLoss', loss_weight=1.0, ignore_index=0),
        ],
    ),
    auxiliary_head=dict(
        type='FCNHead',
        in_channels=768,
        in_index=2,
        channels=256,
        num_convs=1,
        concat_input=False,
        dropout_ratio=0.1,
        num_classes=2,
        norm_cfg=norm_cfg,
        align_corners=False,
        loss_decode=[
            dict(type='CXRFocalLoss', use_sigmoid=True, loss_weight=0.8),
            dict(type='DiceLoss', loss_weight=0.4, ignore_index=0),
        ],
    ),
    train_cfg=dict(),
    test_cfg=dict(mode='whole'),
)
