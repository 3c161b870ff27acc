# EVA-X-S/16 on ChestX-ray14 official split (arXiv:2405.05237,
# train_files/eva_x/cxr14/vit_s.sh): 4 x 256, 30 epochs, warmup 5, lr 1e-3
# (no batch scaling) then constant, layer decay 0.55, wd 0.05, drop path 0.2,
# RandAug rand-m6-mstd0.5-inc1, mean pool + fc_norm, EVA-X mean/std
# 0.49185/0.28509. Seed: 83.3 mAUC (selected on test there; here on val).
_base_ = [
    '../../_base_/models/cls_evax-small-p16_multilabel.py',
    '../../_base_/datasets/cls_nih-cxr14_224px.py',
    '../../_base_/schedules/cls_adamw_layer-decay_warmup-constant.py',
    '../../_base_/default_runtime_cls.py',
]
model = dict(
    backbone=dict(
        init_cfg=dict(
            type='CXRPretrained',
            checkpoint='checkpoints/eva_x_small_patch16_merged520k_mim.pth',
            prefix='backbone.',
            # Fresh fc_norm (weight 1, bias 0), as EVA-X's train.py: the
            # converter drops the MIM final norm (docs/model_zoo.md).
            allowed_missing=['fc_norm.*'],
        )
    )
)
data_preprocessor = dict(mean=[125.42] * 3, std=[72.70] * 3)
train_dataloader = dict(batch_size=256)
max_epochs = 30
train_cfg = dict(max_epochs=max_epochs, val_interval=5)
default_hooks = dict(
    checkpoint=dict(interval=5, max_keep_ckpts=1, save_best='auc/mAUC', rule='greater')
)
