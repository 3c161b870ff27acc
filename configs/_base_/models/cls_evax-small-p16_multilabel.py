# EVA-X ViT-S/16 (EVA-02 blocks: SwiGLU, 2-D RoPE, q/v bias), mean pool +
# fc_norm, multi-label BCE head (entries labelled -1 ignored).
model = dict(
    type='ImageClassifier',
    backbone=dict(
        type='EVAX',
        arch='small',
        img_size=224,
        patch_size=16,
        drop_path_rate=0.2,
        out_type='avg_featmap',
    ),
    neck=None,
    head=dict(
        type='MultiLabelLinearClsHead',
        num_classes=14,
        in_channels=384,
        loss=dict(type='CXRMaskedBCELoss'),
        init_cfg=dict(type='TruncNormal', layer='Linear', std=2e-5),
    ),
)
