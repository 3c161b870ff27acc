# Medical MAE pretraining data "0.5M": NIH + CheXpert + MIMIC-CXR-JPG (official
# train split, AP/PA views; tables as configs/_base_/datasets/mimic-cxr-abnormal_
# 224px.py, labels unused), same pipeline as the 0.3M set.
_base_ = ['./pretrain_nih-chexpert_224px.py']
mimic_train = dict(
    type='MIMICCXR',
    data_root='data/mimic-cxr-jpg/',
    ann_file='mimic-cxr-2.0.0-split.csv.gz',
    metadata_file='mimic-cxr-2.0.0-metadata.csv.gz',
    label_file='mimic-cxr-2.0.0-negbio.csv.gz',
    data_prefix='files',
    views=('AP', 'PA'),
    split='train',
    pipeline={{_base_.train_pipeline}},
)
train_dataloader = dict(
    dataset=dict(
        type='ConcatDataset',
        datasets=[{{_base_.nih_train}}, {{_base_.chexpert_train}}, mimic_train],
    ),
)
