_base_ = ['./cxr_224px_common.py']

# A class-per-folder set <data_root>/<split>/<class>/<image> (the MSMAE sets).
# Set num_classes in data_preprocessor and the model head to the folder count.
dataset_type = 'CXRImageFolder'
data_root = 'data/cxr-imagefolder/'

# ImageNet statistics (MSMAE), in 0-255 units.
data_preprocessor = dict(
    num_classes=2,
    mean=[123.675, 116.28, 103.53],
    std=[58.395, 57.12, 57.375],
    to_rgb=False,
)

train_dataloader = dict(
    dataset=dict(type=dataset_type, data_root=data_root, split='train'),
)
val_dataloader = dict(
    dataset=dict(
        type=dataset_type,
        data_root=data_root,
        split='val',
    ),
)
test_dataloader = dict(
    dataset=dict(
        type=dataset_type,
        data_root=data_root,
        split='test',
    ),
)
val_evaluator = dict(type='Accuracy', topk=(1,))
test_evaluator = val_evaluator
