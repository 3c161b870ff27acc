# CPU demo of EVA-X-style MIM: a 4-layer 128-d ViT student (64 px, 8 px patches)
# regresses the features of the frozen demo MAE encoder. Run the MAE demo first,
# export its encoder, then point the teacher at it:
#   python tools/export_backbone.py work_dirs/mae_vit-demo-.../epoch_30.pth \
#       work_dirs/mae-demo-backbone.pth
_base_ = [
    '../../_base_/models/pretrain_evax-mim_vit-small-p16.py',
    '../../_base_/datasets/pretrain_nih14-demo_64px.py',
    '../../_base_/schedules/pretrain_adamw_warmup-cosine.py',
    '../../_base_/default_runtime_pretrain.py',
]
img_size = 64
patch_size = 8
model = dict(
    backbone=dict(
        arch='demo', img_size=img_size, patch_size=patch_size, drop_path_rate=0.0
    ),
    teacher=dict(
        arch='demo',
        img_size=img_size,
        patch_size=patch_size,
        init_cfg=dict(checkpoint='work_dirs/mae-demo-backbone.pth'),
    ),
    min_block_patches=4,
)
optim_wrapper = dict(optimizer=dict(lr=1.5e-3))
warmup_epochs = 1
max_epochs = 10
param_scheduler = [
    dict(_base_.param_scheduler[0], start_factor=1e-3, end=warmup_epochs),
    dict(_base_.param_scheduler[1], begin=warmup_epochs, end=max_epochs),
]
train_cfg = dict(max_epochs=max_epochs)
default_hooks = dict(
    logger=dict(interval=5), checkpoint=dict(interval=5, max_keep_ckpts=1)
)
