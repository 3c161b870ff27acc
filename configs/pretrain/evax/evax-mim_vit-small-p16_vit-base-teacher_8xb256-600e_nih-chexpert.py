# EVA-X-style MIM, ViT-S/16 student (https://arxiv.org/abs/2405.05237; EVA-X-S
# was pretrained for 600 epochs per its README). Teacher: a frozen ViT-B/16 from
# a pretraining checkpoint, e.g. the exported Medical MAE ViT-B encoder:
#   --cfg-options model.teacher.init_cfg.checkpoint=PATH
_base_ = [
    '../../_base_/models/pretrain_evax-mim_vit-small-p16.py',
    '../../_base_/datasets/pretrain_nih-chexpert_224px.py',
    '../../_base_/schedules/pretrain_adamw_warmup-cosine.py',
    '../../_base_/default_runtime_pretrain.py',
]
warmup_epochs = 40
max_epochs = 600
param_scheduler = [
    _base_.param_scheduler[0],
    dict(_base_.param_scheduler[1], end=max_epochs),
]
train_cfg = dict(max_epochs=max_epochs)
