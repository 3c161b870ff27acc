# Demo step 3: lung segmentation with the same MAE-pretrained demo ViT as the
# backbone of an mmseg EncoderDecoder (multi-level features -> Feature2Pyramid
# -> UPerHead, FCN auxiliary head) on the 90 CC BY lung masks, patient split.
# The 64 px pretraining pos-embed is resized to the 128 px grid on load.
# Point `pretrained` at the step-1 checkpoint with --cfg-options.
_base_ = ['./upernet_vit-demo-p8_1xb4-300it_lungs-cc-by-128x128.py']

pretrained = 'work_dirs/demo/pretrain/epoch_20.pth'
model = dict(
    backbone=dict(
        drop_path_rate=0.1,
        # MAE's final norm (ln1) is unused: the pyramid takes the block outputs.
        init_cfg=dict(
            type='CXRPretrained',
            checkpoint=pretrained,
            prefix='backbone.',
            allowed_unexpected=['ln1.*'],
        ),
    )
)
max_iters = 400
param_scheduler = [
    dict(_base_.param_scheduler[0], end=40),
    dict(_base_.param_scheduler[1], begin=40, end=max_iters),
]
train_cfg = dict(max_iters=max_iters, val_interval=100)
default_hooks = dict(checkpoint=dict(interval=100))
