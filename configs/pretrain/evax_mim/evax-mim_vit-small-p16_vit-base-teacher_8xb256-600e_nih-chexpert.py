# EVA-X-style MIM, ViT-S/16 student (https://arxiv.org/abs/2405.05237; EVA-X-S
# was pretrained for 600 epochs per its README). Teacher: a frozen ViT-B/16 from
# a pretraining checkpoint, e.g. the exported Medical MAE ViT-B encoder:
#   --cfg-options model.teacher.init_cfg.checkpoint=PATH
_base_ = [
    '../../_base_/models/pretrain_evax_mim_vit-small-p16.py',
    '../mae/_base_/pretrain_data_nih-chexpert-224.py',
    '../../_base_/schedules/pretrain_adamw_warmup-cosine.py',
    '../../_base_/default_runtime_pretrain.py',
]
warmup_epochs = 40
max_epochs = 600
param_scheduler = [
    dict(
        type='LinearLR',
        start_factor=1e-4,
        by_epoch=True,
        begin=0,
        end=warmup_epochs,
        convert_to_iter_based=True,
    ),
    dict(
        type='CosineAnnealingLR',
        T_max=max_epochs - warmup_epochs,
        eta_min=0.0,
        by_epoch=True,
        begin=warmup_epochs,
        end=max_epochs,
        convert_to_iter_based=True,
    ),
]
train_cfg = dict(max_epochs=max_epochs)
