# Medical MAE ViT-B/16 with a 512-d, 8-block decoder (mae_vit_base_patch16_dec512d8b,
# https://arxiv.org/abs/2210.12843); only the widths differ from the ViT-S base.
_base_ = ['./pretrain_mae_vit-small-p16_dec512d2b.py']
model = dict(
    backbone=dict(arch='b'),
    neck=dict(embed_dim=768, decoder_depth=8),
)
