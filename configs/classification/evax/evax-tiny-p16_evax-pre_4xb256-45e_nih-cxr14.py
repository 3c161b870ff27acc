# EVA-X-Ti/16 on ChestX-ray14 (vit_ti.sh): 45 epochs, 4 x 256. Seed: 82.4.
_base_ = ['./evax-small-p16_evax-pre_4xb256-30e_nih-cxr14.py']
model = dict(
    backbone=dict(
        arch='tiny',
        init_cfg=dict(checkpoint='checkpoints/eva_x_tiny_patch16_merged520k_mim.pth'),
    ),
    head=dict(in_channels=192),
)
max_epochs = 45
train_cfg = dict(max_epochs=max_epochs)
