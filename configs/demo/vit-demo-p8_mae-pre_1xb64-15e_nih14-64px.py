# Demo step 2: fine-tune the MAE-pretrained demo ViT for 14-label NIH
# classification (Medical MAE recipe: global pool + fc_norm, layer decay, drop
# path, BCE), selected on validation mAUC; tools/test.py then reports the test
# split once. Point `pretrained` at the step-1 checkpoint, e.g.
#   --cfg-options model.backbone.init_cfg.checkpoint=work_dirs/demo/pretrain/epoch_20.pth
_base_ = [
    '../_base_/datasets/nih14-demo_64px.py',
    '../_base_/default_runtime_cls.py',
]

img_size = 64
patch_size = 8
pretrained = 'work_dirs/demo/pretrain/epoch_20.pth'
num_classes = 14

model = dict(
    type='ImageClassifier',
    backbone=dict(
        type='CXRViT',
        arch='demo',
        img_size=img_size,
        patch_size=patch_size,
        drop_path_rate=0.1,
        # MAE's final norm (ln1) is unused: global pool + fc_norm (ln2) replace it.
        init_cfg=dict(type='CXRPretrained', checkpoint=pretrained,
                      prefix='backbone.', allowed_missing=['ln2.*'],
                      allowed_unexpected=['ln1.*']),
    ),
    neck=None,
    head=dict(
        type='MultiLabelLinearClsHead',
        num_classes=num_classes,
        in_channels=128,
        loss=dict(type='CrossEntropyLoss', use_sigmoid=True),
        init_cfg=dict(type='TruncNormal', layer='Linear', std=2e-5),
    ),
)

train_dataloader = dict(batch_size=64)
test_evaluator = dict(type='MultiLabelAUC', bootstrap=1000)

optim_wrapper = dict(
    optimizer=dict(type='AdamW', lr=1e-3 * 64 / 256, betas=(0.9, 0.999),
                   weight_decay=0.05),
    constructor='LearningRateDecayOptimWrapperConstructor',
    paramwise_cfg=dict(layer_decay_rate=0.75, custom_keys={
        '.ln': dict(decay_mult=0.0),
        '.bias': dict(decay_mult=0.0),
        '.cls_token': dict(decay_mult=0.0),
        '.pos_embed': dict(decay_mult=0.0),
    }),
)
max_epochs = 15
param_scheduler = [
    dict(type='LinearLR', start_factor=1e-3, by_epoch=True, begin=0, end=2,
         convert_to_iter_based=True),
    dict(type='CosineAnnealingLR', T_max=max_epochs - 2, by_epoch=True, begin=2,
         end=max_epochs, eta_min=1e-6, convert_to_iter_based=True),
]
train_cfg = dict(by_epoch=True, max_epochs=max_epochs, val_interval=3)
val_cfg = dict()
test_cfg = dict()
default_hooks = dict(
    logger=dict(interval=5),
    checkpoint=dict(type='CheckpointHook', interval=3, max_keep_ckpts=1,
                    save_best='auc/mAUC', rule='greater'),
)
