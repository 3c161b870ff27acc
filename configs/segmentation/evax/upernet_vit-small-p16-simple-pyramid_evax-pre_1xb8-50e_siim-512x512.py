# EVA-X SIIM-ACR recipe (https://arxiv.org/abs/2405.05237): EVA-X-S/16 last block
# -> simple pyramid -> UperNet, sigmoid BCE, 512x512 (no keep-ratio), batch 8,
# AdamW 6e-5, layer decay 0.85, 10 warm-up iterations + poly, 50 epochs.
# EVA-X keeps positives only (70/30); --positives-only in prepare_siim.py.
_base_ = [
    '../../_base_/models/seg_upernet_evax_simple-pyramid.py',
    '../../_base_/datasets/seg_siim_512x512.py',
    '../../_base_/schedules/seg_adamw_layer-decay_poly.py',
    '../../_base_/default_runtime_seg.py',
]
model = dict(
    backbone=dict(
        init_cfg=dict(
            type='CXRPretrained',
            checkpoint='checkpoints/eva_x_small_patch16_merged520k_mim_512px.pth',
            prefix='backbone.',
            # Dense features use no fc_norm; a fine-tuned file's is ignored.
            allowed_unexpected=['fc_norm.*'],
        )
    )
)
crop_size = (512, 512)
train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='LoadAnnotations'),
    dict(type='Resize', scale=crop_size, keep_ratio=False),
    dict(type='RandomFlip', prob=0.5),
    dict(type='PhotoMetricDistortion'),
    dict(type='PackSegInputs'),
]
test_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='Resize', scale=crop_size, keep_ratio=False),
    dict(type='LoadAnnotations'),
    dict(type='PackSegInputs'),
]
train_dataloader = dict(
    batch_size=8,
    sampler=dict(_delete_=True, type='DefaultSampler', shuffle=True),
    dataset=dict(pipeline=train_pipeline),
)
val_dataloader = dict(dataset=dict(pipeline=test_pipeline))
test_dataloader = val_dataloader
optim_wrapper = dict(optimizer=dict(lr=6e-5), paramwise_cfg=dict(layer_decay_rate=0.85))
max_epochs = 50
param_scheduler = [
    dict(type='LinearLR', start_factor=1e-6, by_epoch=False, begin=0, end=10),
    dict(
        type='PolyLR',
        power=1.0,
        eta_min=0.0,
        by_epoch=True,
        begin=0,
        end=max_epochs,
        convert_to_iter_based=True,
    ),
]
train_cfg = dict(
    _delete_=True, type='EpochBasedTrainLoop', max_epochs=max_epochs, val_interval=1
)
default_hooks = dict(
    logger=dict(log_metric_by_epoch=True),
    checkpoint=dict(by_epoch=True, interval=1, save_best='Dice', rule='greater'),
)
log_processor = dict(by_epoch=True)
