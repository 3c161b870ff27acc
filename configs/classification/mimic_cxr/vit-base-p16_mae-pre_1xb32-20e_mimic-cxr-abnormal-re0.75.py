# MIMIC normal/abnormal with RandomErasing p 0.75. Seed: val AUC 0.799.
_base_ = ['./vit-base-p16_mae-pre_1xb32-20e_mimic-cxr-abnormal-re0.25.py']
train_dataloader = dict(
    dataset=dict(
        pipeline=[
            dict(type='LoadXRayImage', to_rgb=True),
            dict(
                type='RandomResizedCrop',
                scale=224,
                backend='pillow',
                interpolation='bicubic',
            ),
            dict(type='RandomFlip', prob=0.5, direction='horizontal'),
            dict(
                type='RandAugment',
                policies='timm_increasing',
                num_policies=2,
                total_level=10,
                magnitude_level=9,
                magnitude_std=0.5,
                hparams=dict(pad_val=[124, 116, 104], interpolation='bicubic'),
            ),
            dict(
                type='RandomErasing',
                erase_prob=0.75,
                mode='rand',
                min_area_ratio=0.02,
                max_area_ratio=1 / 3,
                fill_color=[103.53, 116.28, 123.675],
                fill_std=[57.375, 57.12, 58.395],
            ),
            dict(type='PackInputs'),
        ]
    )
)
