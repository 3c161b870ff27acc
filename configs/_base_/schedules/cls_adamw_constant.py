# MAE_ViT_MIMIC_CXR fine-tuning schedule: AdamW lr 1e-6, no lr scheduler,
# 20 epochs, validation every epoch.
optim_wrapper = dict(
    type='OptimWrapper',
    optimizer=dict(
        type='AdamW',
        fused=True,  # one multi-tensor kernel per step (CPU and CUDA in torch 2.14)
        lr=1e-6,
        weight_decay=0.01,
    ),
)
param_scheduler = []
max_epochs = 20
train_cfg = dict(by_epoch=True, max_epochs=max_epochs, val_interval=1)
val_cfg = dict()
test_cfg = dict()
