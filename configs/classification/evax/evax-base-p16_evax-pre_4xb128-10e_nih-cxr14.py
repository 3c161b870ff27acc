# EVA-X-B/16 (sub-LN, separate q/k/v) on ChestX-ray14 (vit_b.sh): 10 epochs,
# 4 x 128. Seed: 83.5.
_base_ = ['./evax-small-p16_evax-pre_4xb256-30e_nih-cxr14.py']
model = dict(
    backbone=dict(
        arch='base',
        init_cfg=dict(checkpoint='checkpoints/eva_x_base_patch16_merged520k_mim.pth'),
    ),
    head=dict(in_channels=768),
)
train_dataloader = dict(batch_size=128)
max_epochs = 10
train_cfg = dict(max_epochs=max_epochs)
