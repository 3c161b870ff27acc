_base_ = ['./cxr_224px_common.py']

# MIMIC-CXR-JPG normal/abnormal (the MIMIC MAE-ViT seed's task: abnormal = any
# explicit NegBio positive among 12 findings), AP/PA views, official split.
dataset_type = 'MIMICCXR'
data_root = 'data/mimic-cxr-jpg/'
tables = dict(
    ann_file='mimic-cxr-2.0.0-split.csv.gz',
    metadata_file='mimic-cxr-2.0.0-metadata.csv.gz',
    label_file='mimic-cxr-2.0.0-negbio.csv.gz',
    data_prefix='files',
    task='abnormal',
    views=('AP', 'PA'),
)

# ImageNet statistics (MIMIC MAE-ViT seed), in 0-255 units.
data_preprocessor = dict(
    num_classes=2,
    mean=[123.675, 116.28, 103.53],
    std=[58.395, 57.12, 57.375],
    to_rgb=False,
)

train_dataloader = dict(
    dataset=dict(
        type=dataset_type,
        data_root=data_root,
        split='train',
        **tables,
    ),
)
val_dataloader = dict(
    dataset=dict(
        type=dataset_type,
        data_root=data_root,
        split='val',
        **tables,
    ),
)
test_dataloader = dict(
    dataset=dict(
        type=dataset_type,
        data_root=data_root,
        split='test',
        **tables,
    ),
)
val_evaluator = dict(type='Accuracy', topk=(1,))
test_evaluator = val_evaluator
