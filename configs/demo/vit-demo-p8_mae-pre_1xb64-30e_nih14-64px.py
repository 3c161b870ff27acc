# Demo step 2: fine-tune the MAE-pretrained demo ViT for 14-label NIH
# classification (Medical MAE recipe: global pool + fc_norm, layer decay, drop
# path, BCE), selected on validation mAUC; tools/test.py then reports the test
# split once. Point `pretrained` at the step-1 checkpoint, e.g.
#   --cfg-options model.backbone.init_cfg.checkpoint=work_dirs/demo/pretrain/epoch_40.pth
_base_ = ['../_base_/default_runtime_cls.py']

img_size = 64
patch_size = 8
data_root = 'data/demo/nih14_64px/'
pretrained = 'work_dirs/demo/pretrain/epoch_40.pth'
num_classes = 14

model = dict(
    type='ImageClassifier',
    backbone=dict(
        type='CXRViT',
        arch='demo',
        img_size=img_size,
        patch_size=patch_size,
        drop_path_rate=0.1,
        init_cfg=dict(type='Pretrained', checkpoint=pretrained, prefix='backbone.'),
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

data_preprocessor = dict(
    num_classes=num_classes, mean=[128.9] * 3, std=[64.3] * 3, to_rgb=False)

train_pipeline = [
    dict(type='LoadXRayImage'),
    dict(type='RandomResizedCrop', scale=img_size, crop_ratio_range=(0.6, 1.0),
         backend='pillow', interpolation='bicubic'),
    dict(type='RandomFlip', prob=0.5),
    dict(type='PackInputs'),
]
test_pipeline = [dict(type='LoadXRayImage'), dict(type='PackInputs')]

dataset = dict(
    type='NIHChestXray14',
    data_root=data_root,
    ann_file='labels.csv',
    patient_split=dict(train=0.6, val=0.2, test=0.2),
)
train_dataloader = dict(
    batch_size=64,
    num_workers=2,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=True),
    dataset=dict(**dataset, split='train', pipeline=train_pipeline),
)
val_dataloader = dict(
    batch_size=100,
    num_workers=2,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(**dataset, split='val', pipeline=test_pipeline),
)
test_dataloader = dict(val_dataloader, dataset=dict(**dataset, split='test',
                                                    pipeline=test_pipeline))
val_evaluator = dict(type='MultiLabelAUC')
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
max_epochs = 30
param_scheduler = [
    dict(type='LinearLR', start_factor=1e-3, by_epoch=True, begin=0, end=3,
         convert_to_iter_based=True),
    dict(type='CosineAnnealingLR', T_max=max_epochs - 3, by_epoch=True, begin=3,
         end=max_epochs, eta_min=1e-6, convert_to_iter_based=True),
]
train_cfg = dict(by_epoch=True, max_epochs=max_epochs, val_interval=3)
val_cfg = dict()
test_cfg = dict()
default_hooks = dict(
    logger=dict(interval=5),
    checkpoint=dict(type='CheckpointHook', interval=3, max_keep_ckpts=1,
                    save_best='auto', rule='greater'),
)
