# CheXpert v1.0-small, 5 competition classes, frontal views, U-Ones for
# Edema/Atelectasis and U-Zeros for the rest (EVA-X / medical_mae policy).
# The official valid.csv (234 images) is the test set; validation is a
# patient-level 5% hold-out of train.csv (the seeds selected on test).
dataset_type = 'CheXpert'
data_root = 'data/chexpert/'
classes = ('Atelectasis', 'Cardiomegaly', 'Consolidation', 'Edema',
           'Pleural Effusion')
data_preprocessor = dict(
    num_classes=5, mean=[125.42] * 3, std=[72.70] * 3, to_rgb=False)
train_pipeline = [
    dict(type='LoadXRayImage', to_rgb=True),
    dict(type='RandomResizedCrop', scale=224, backend='pillow',
         interpolation='bicubic'),
    dict(type='RandomFlip', prob=0.5, direction='horizontal'),
    dict(type='PackInputs'),
]
test_pipeline = [
    dict(type='LoadXRayImage', to_rgb=True),
    dict(type='ResizeEdge', scale=256, edge='short', backend='pillow',
         interpolation='bicubic'),
    dict(type='CenterCrop', crop_size=224),
    dict(type='PackInputs'),
]
common = dict(type=dataset_type, data_root=data_root, classes=classes,
              frontal_only=True)
train_dataloader = dict(
    batch_size=256,
    num_workers=8,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=True),
    dataset=dict(**common, ann_file='CheXpert-v1.0-small/train.csv',
                 split='train', patient_split=dict(train=0.95, val=0.05),
                 seed=0, pipeline=train_pipeline),
)
val_dataloader = dict(
    batch_size=256,
    num_workers=8,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(**common, ann_file='CheXpert-v1.0-small/train.csv',
                 split='val', patient_split=dict(train=0.95, val=0.05),
                 seed=0, test_mode=True, pipeline=test_pipeline),
)
test_dataloader = dict(
    val_dataloader,
    dataset=dict(**common, ann_file='CheXpert-v1.0-small/valid.csv',
                 test_mode=True, pipeline=test_pipeline),
)
val_evaluator = dict(type='MultiLabelAUC')
test_evaluator = dict(type='MultiLabelAUC', bootstrap=1000)
