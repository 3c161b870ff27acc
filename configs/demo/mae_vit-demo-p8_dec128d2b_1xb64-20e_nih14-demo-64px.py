# Demo step 1: MAE pretraining of a small ViT on the training patients of the
# 1,000 embedded NIH images: the CPU MAE demo of configs/pretrain/mae (4-layer
# 128-d ViT, 64 px, 8 px patches, mask 0.75, masked-patch MSE) at batch 64 for
# 20 epochs, so that the whole demo job fits in about 15 CPU minutes.
_base_ = ['../pretrain/mae/mae_vit-demo-p8_dec128d2b_1xb32-30e_nih14-demo-64px.py']

train_dataloader = dict(batch_size=64, num_workers=2)
warmup_epochs = 2
max_epochs = 20
param_scheduler = [
    dict(_base_.param_scheduler[0], start_factor=1e-3, end=warmup_epochs),
    dict(_base_.param_scheduler[1], begin=warmup_epochs, end=max_epochs),
]
train_cfg = dict(max_epochs=max_epochs)
default_hooks = dict(checkpoint=dict(interval=max_epochs))
