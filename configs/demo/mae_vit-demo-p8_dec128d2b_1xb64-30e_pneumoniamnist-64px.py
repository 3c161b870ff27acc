# Label-efficiency study (tools/run_study.sh), pretraining: the MAE demo ViT of
# step 1 trained on the 3,882 PneumoniaMNIST training images without their
# labels (28 px upsampled to 64 px, 8 px patches, mask 0.75).
_base_ = ['./mae_vit-demo-p8_dec128d2b_1xb64-20e_nih14-demo-64px.py']

model = dict(
    # PneumoniaMNIST training-split statistics (0-255 units).
    data_preprocessor=dict(mean=[147.0] * 3, std=[42.0] * 3)
)
train_pipeline = [
    dict(
        type='RandomResizedCrop',
        scale=64,
        crop_ratio_range=(0.5, 1.0),
        backend='pillow',
        interpolation='bicubic',
    ),
    dict(type='PackInputs'),
]
train_dataloader = dict(
    dataset=dict(
        _delete_=True,
        type='MedMNIST',
        data_root='data/demo/pneumoniamnist_28px/',
        ann_file='pneumoniamnist.npz',
        split='train',
        pipeline=train_pipeline,
    )
)
warmup_epochs = 1
max_epochs = 30
param_scheduler = [
    dict(_base_.param_scheduler[0], end=warmup_epochs),
    dict(_base_.param_scheduler[1], begin=warmup_epochs, end=max_epochs),
]
train_cfg = dict(max_epochs=max_epochs)
default_hooks = dict(logger=dict(interval=20), checkpoint=dict(interval=max_epochs))
