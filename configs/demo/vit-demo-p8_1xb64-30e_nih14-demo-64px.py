# CPU demo: Medical MAE fine-tuning recipe shrunk to the 4-layer 128-d CXRViT
# on the 1,000 embedded NIH images (64 px, 8 px patches), from random init.
# Patient-disjoint 60/20/20 re-split; best checkpoint on validation mAUC; the
# test split is evaluated once with tools/test.py.
_base_ = [
    '../_base_/models/cls_cxr-vit-small-p16_multilabel.py',
    '../_base_/datasets/cls_nih14-demo_64px.py',
    '../_base_/schedules/cls_adamw_layer-decay_warmup-cosine.py',
    '../_base_/default_runtime_cls.py',
]
model = dict(
    backbone=dict(arch='demo', img_size=64, patch_size=8, drop_path_rate=0.1),
    head=dict(in_channels=128),
)
train_dataloader = dict(batch_size=64)
# blr 1e-3 (4x the seed's 2.5e-4): a few hundred steps only; 4 layers, so a
# milder layer decay than ViT-S's 0.55.
optim_wrapper = dict(
    optimizer=dict(lr=1e-3 * 64 / 256), paramwise_cfg=dict(layer_decay_rate=0.75)
)
warmup_epochs = 3
max_epochs = 30
param_scheduler = [
    dict(_base_.param_scheduler[0], end=warmup_epochs),
    dict(_base_.param_scheduler[1], begin=warmup_epochs, end=max_epochs),
]
train_cfg = dict(max_epochs=max_epochs, val_interval=2)
test_evaluator = dict(type='MultiLabelAUC', bootstrap=1000)
default_hooks = dict(
    logger=dict(interval=5),
    checkpoint=dict(interval=2, max_keep_ckpts=1, save_best='auc/mAUC', rule='greater'),
)
auto_scale_lr = dict(base_batch_size=64)
