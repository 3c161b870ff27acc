# ViT-S/16 with MAE global pool + fc_norm (Medical MAE / MRM fine-tuning) and a
# 14-way multi-label BCE head (entries labelled -1 ignored). Swap the backbone
# with one line: backbone=dict(type='EVAX'|'CXRDenseNet'|'ResNet'|'TIMMBackbone').
model = dict(
    type='ImageClassifier',
    backbone=dict(
        type='CXRViT',
        arch='small',
        img_size=224,
        patch_size=16,
        drop_path_rate=0.2,
        out_type='avg_featmap',
        final_norm=False,
    ),
    neck=None,
    head=dict(
        type='MultiLabelLinearClsHead',
        num_classes=14,
        in_channels=384,
        loss=dict(type='CXRMaskedBCELoss'),
        # MAE fine-tuning: head weights trunc-normal std 2e-5.
        init_cfg=dict(type='TruncNormal', layer='Linear', std=2e-5),
    ),
)
