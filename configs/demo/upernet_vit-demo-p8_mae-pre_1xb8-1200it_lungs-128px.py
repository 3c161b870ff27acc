# Demo step 3: lung segmentation with the same MAE-pretrained demo ViT as an
# mmseg EncoderDecoder backbone (multi-level features -> Feature2Pyramid ->
# UPerHead, FCN auxiliary head) on the 90 CC BY lung masks, patient split.
# The 64 px pretraining pos-embed is resized to the 128 px grid on load.
_base_ = [
    '../_base_/datasets/seg_lungs_cc_by_128.py',
    '../_base_/default_runtime_seg.py',
]

img_size = 128
patch_size = 8
embed_dims = 128
pretrained = 'work_dirs/demo/pretrain/epoch_40.pth'

model = dict(
    type='EncoderDecoder',
    data_preprocessor=dict(
        type='SegDataPreProcessor', mean=[128.9] * 3, std=[64.3] * 3,
        bgr_to_rgb=False, pad_val=0, seg_pad_val=255,
        size=(img_size, img_size)),
    backbone=dict(
        type='mmpretrain.CXRViT',
        arch='demo',
        img_size=img_size,
        patch_size=patch_size,
        out_type='featmap',
        out_indices=(0, 1, 2, 3),
        drop_path_rate=0.1,
        # MAE's final norm (ln1) is unused: the pyramid takes un-normed block outputs.
        init_cfg=dict(type='CXRPretrained', checkpoint=pretrained,
                      prefix='backbone.', allowed_unexpected=['ln1.*']),
    ),
    neck=dict(type='Feature2Pyramid', embed_dim=embed_dims, rescales=[4, 2, 1, 0.5]),
    decode_head=dict(
        type='UPerHead',
        in_channels=[embed_dims] * 4,
        in_index=[0, 1, 2, 3],
        pool_scales=(1, 2, 3, 6),
        channels=128,
        dropout_ratio=0.1,
        num_classes=2,
        norm_cfg=dict(type='BN', requires_grad=True),
        align_corners=False,
        loss_decode=[
            dict(type='CrossEntropyLoss', use_sigmoid=False, loss_weight=1.0),
            dict(type='DiceLoss', loss_weight=0.5),
        ],
    ),
    auxiliary_head=dict(
        type='FCNHead',
        in_channels=embed_dims,
        in_index=2,
        channels=64,
        num_convs=1,
        concat_input=False,
        dropout_ratio=0.1,
        num_classes=2,
        norm_cfg=dict(type='BN', requires_grad=True),
        align_corners=False,
        loss_decode=dict(type='CrossEntropyLoss', use_sigmoid=False,
                         loss_weight=0.4),
    ),
    train_cfg=dict(),
    test_cfg=dict(mode='whole'),
)

train_dataloader = dict(batch_size=8, num_workers=2, persistent_workers=True)

max_iters = 1200
optim_wrapper = dict(
    type='OptimWrapper',
    optimizer=dict(type='AdamW', lr=5e-4, betas=(0.9, 0.999), weight_decay=0.05),
)
param_scheduler = [
    dict(type='LinearLR', start_factor=1e-3, by_epoch=False, begin=0, end=50),
    dict(type='PolyLR', power=1.0, eta_min=1e-6, by_epoch=False, begin=50,
         end=max_iters),
]
train_cfg = dict(type='IterBasedTrainLoop', max_iters=max_iters, val_interval=200)
val_cfg = dict(type='ValLoop')
test_cfg = dict(type='TestLoop')
default_hooks = dict(
    logger=dict(interval=50),
    checkpoint=dict(type='CheckpointHook', by_epoch=False, interval=200,
                    max_keep_ckpts=1, save_best='mDice', rule='greater'),
    visualization=dict(type='SegVisualizationHook', draw=False),
)
