# Medical MAE CNN-MAE (https://arxiv.org/abs/2210.12843): DenseNet-121 U-Net,
# 16x16 patches zeroed at ratio 0.75, NIH + CheXpert, 8 GPUs x 256, 800 epochs
# (40 warmup), blr 1.5e-4, wd 0.05. loss_region='all' reproduces the seed code.
_base_ = [
    '../../_base_/models/pretrain_cnn-mae_densenet121-unet.py',
    '../../_base_/datasets/pretrain_nih-chexpert_224px.py',
    '../../_base_/schedules/pretrain_adamw_warmup-cosine.py',
    '../../_base_/default_runtime_pretrain.py',
]
