# Medical MAE ViT-S/16 fine-tuning on NIH ChestX-ray14 (arXiv:2210.12843,
# FINETUNE.md): 8 x 128, 75 epochs, warmup 5, lr 2.5e-4 x 1024 / 256, layer
# decay 0.55, drop path 0.2, wd 0.05, min lr 1e-5, RandAug m6, BCE, global
# pool + fc_norm. Seed: 82.3 test mAUC (X-ray MAE 0.3M pretraining).
# Selected on validation mAUC; tools/test.py evaluates the test split once.
_base_ = [
    '../../_base_/models/cls_cxr-vit-small-p16_multilabel.py',
    '../../_base_/datasets/cls_nih-cxr14_224px.py',
    '../../_base_/schedules/cls_adamw_layer-decay_warmup-cosine.py',
    '../../_base_/default_runtime_cls.py',
]
model = dict(
    backbone=dict(
        init_cfg=dict(
            type='CXRPretrained',
            checkpoint='checkpoints/medmae_vit-small-p16_cxr-0.3m.pth',
            prefix='backbone.',
            # Fresh fc_norm (weight 1, bias 0), as the seeds fine-tune: the
            # converter drops the pretraining final norm (docs/model_zoo.md).
            allowed_missing=['ln2.*'],
        )
    )
)
train_dataloader = dict(batch_size=128)
default_hooks = dict(
    checkpoint=dict(interval=1, max_keep_ckpts=1, save_best='auc/mAUC', rule='greater')
)
