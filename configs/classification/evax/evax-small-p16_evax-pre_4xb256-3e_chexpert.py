# EVA-X-S/16 on CheXpert (chexpert/vit_s.sh): 60 fake epochs = 3 real epochs,
# drop path 0.15, no warmup, seed 14. The seed starts from an already
# fine-tuned checkpoint-best.pth; here from the MIM weights. Seed: 90.1 mAUC.
_base_ = ['./evax-tiny-p16_evax-pre_4xb256-5e_chexpert.py']
model = dict(
    backbone=dict(
        arch='small',
        drop_path_rate=0.15,
        stop_grad_patch_embed=False,
        init_cfg=dict(checkpoint='checkpoints/eva_x_small_patch16_merged520k_mim.pth'),
    ),
    head=dict(in_channels=384),
)
max_epochs = 3
train_cfg = dict(max_epochs=max_epochs)
randomness = dict(seed=14)
