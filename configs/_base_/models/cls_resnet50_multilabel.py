# ResNet-50 (mmpretrain ResNet: torchvision key names), global average pooling,
# multi-label BCE head.
model = dict(
    type='ImageClassifier',
    backbone=dict(
        type='ResNet', depth=50, num_stages=4, out_indices=(3,), style='pytorch'
    ),
    neck=dict(type='GlobalAveragePooling'),
    head=dict(
        type='MultiLabelLinearClsHead',
        num_classes=14,
        in_channels=2048,
        loss=dict(type='CXRMaskedBCELoss'),
    ),
)
