# EVA-X-style MIM (https://arxiv.org/abs/2405.05237): a ViT-S/16 student with mask
# tokens (block-wise masking, 40%) regresses a frozen teacher's patch features
# (cosine loss). The teacher here is a ViT-B/16 loaded from a pretraining
# checkpoint (e.g. Medical MAE ViT-B exported by tools/export_backbone.py); leaf
# configs set model.teacher.init_cfg.checkpoint.
model = dict(
    type='EVAXMIM',
    data_preprocessor=dict(
        type='SelfSupDataPreprocessor', mean=[128.9] * 3, std=[64.3] * 3, to_rgb=False
    ),
    backbone=dict(
        type='CXRViT',
        arch='small',
        img_size=224,
        patch_size=16,
        out_type='raw',
        final_norm=True,
        drop_path_rate=0.1,
    ),
    teacher=dict(
        type='CXRViT',
        arch='base',
        img_size=224,
        patch_size=16,
        out_type='featmap',
        final_norm=True,
        init_cfg=dict(
            type='CXRPretrained', checkpoint='work_dirs/teacher/backbone.pth'
        ),
    ),
    mask_ratio=0.4,
    min_block_patches=16,
)
