_base_ = ['./cls_common_224px.py']

# CheXpert v1.0-small, 5 competition tasks, frontal views, the seeds'
# uncertainty policy (U-Ones for Atelectasis and Edema, U-Zeros otherwise).
# The official valid.csv (234 images) is the test set; validation uses a
# patient-level 5 % hold-out of train.csv (seeded), never the test set. The
# test evaluator adds a 1,000-resample bootstrap 95% CI.
dataset_type = 'CheXpert'
data_root = 'data/chexpert/'
val_split = dict(train=0.95, val=0.05)

# ImageNet statistics, as medical_mae uses for CheXpert, in 0-255 units.
data_preprocessor = dict(
    num_classes=5,
    mean=[123.675, 116.28, 103.53],
    std=[58.395, 57.12, 57.375],
    to_rgb=False,
)

train_dataloader = dict(
    dataset=dict(
        type=dataset_type,
        data_root=data_root,
        ann_file='CheXpert-v1.0-small/train.csv',
        frontal_only=True,
        split='train',
        patient_split=val_split,
    ),
)
val_dataloader = dict(
    dataset=dict(
        type=dataset_type,
        data_root=data_root,
        ann_file='CheXpert-v1.0-small/train.csv',
        frontal_only=True,
        split='val',
        patient_split=val_split,
    ),
)
test_dataloader = dict(
    dataset=dict(
        type=dataset_type,
        data_root=data_root,
        ann_file='CheXpert-v1.0-small/valid.csv',
        frontal_only=True,
    ),
)
test_evaluator = dict(type='MultiLabelAUC', bootstrap=1000)
