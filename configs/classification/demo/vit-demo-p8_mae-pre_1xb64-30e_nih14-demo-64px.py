# CPU demo: the random-init demo recipe, starting from a demo MAE checkpoint
# (mmpretrain MAE + MAEViT, configs/demo/mae_vit-demo-p8_1xb64-20e_nih14-64px.py,
# trained on the training patients only). Point `checkpoint` elsewhere with
# --cfg-options model.backbone.init_cfg.checkpoint=...
_base_ = ['./vit-demo-p8_1xb64-30e_nih14-demo-64px.py']
model = dict(backbone=dict(init_cfg=dict(
    type='Pretrained', checkpoint='work_dirs/demo/pretrain/epoch_40.pth',
    prefix='backbone.')))
