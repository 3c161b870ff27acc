# DenseNet-121 with torchvision key names (loads torchvision / Medical MAE
# CNN-MAE `features.*` weights), global average pooling, multi-label BCE head.
model = dict(
    type='ImageClassifier',
    backbone=dict(type='CXRDenseNet', arch='121'),
    neck=dict(type='GlobalAveragePooling'),
    head=dict(
        type='MultiLabelLinearClsHead',
        num_classes=14,
        in_channels=1024,
        loss=dict(type='CXRMaskedBCELoss'),
    ),
)
