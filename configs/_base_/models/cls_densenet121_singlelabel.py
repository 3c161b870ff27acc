# DenseNet-121 (torchvision keys), global average pooling, single-label
# softmax head with cross-entropy (image folders, binary tasks). Set
# head.num_classes and data_preprocessor.num_classes to the class count.
model = dict(
    type='ImageClassifier',
    backbone=dict(type='CXRDenseNet', arch='121'),
    neck=dict(type='GlobalAveragePooling'),
    head=dict(
        type='LinearClsHead',
        num_classes=2,
        in_channels=1024,
        loss=dict(type='CrossEntropyLoss', loss_weight=1.0),
        topk=(1,),
    ),
)
