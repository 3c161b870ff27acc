# smp U-Net (https://arxiv.org/abs/1505.04597) inside mmseg's EncoderDecoder:
# SMPBackbone returns the U-Net decoder's last map, FCNHead(num_convs=0) is the
# 1x1 classifier. encoder_weights=None: weights come from init_cfg only.
norm_cfg = dict(type='BN', requires_grad=True)
data_preprocessor = dict(
    type='SegDataPreProcessor',
    mean=[128.93, 128.93, 128.93],  # baselines' 0.5056 / 0.252 (EVA-X)
    std=[64.26, 64.26, 64.26],
    bgr_to_rgb=True,
    pad_val=0,
    seg_pad_val=255,
    size=(512, 512),
)
model = dict(
    type='EncoderDecoder',
    data_preprocessor=data_preprocessor,
    backbone=dict(
        type='SMPBackbone',
        arch='Unet',
        encoder_name='resnet50',
        encoder_weights=None,
        decoder_channels=(256, 128, 64, 32, 16),
    ),
    decode_head=dict(
        type='FCNHead',
        in_channels=16,
        in_index=0,
        channels=16,
        num_convs=0,
        concat_input=False,
        dropout_ratio=0.0,
        num_classes=2,
        norm_cfg=norm_cfg,
        align_corners=False,
        loss_decode=[
            dict(type='CrossEntropyLoss', use_sigmoid=False, loss_weight=1.0),
            dict(type='DiceLoss', loss_weight=1.0, ignore_index=0),
        ],
    ),
    train_cfg=dict(),
    test_cfg=dict(mode='whole'),
)
