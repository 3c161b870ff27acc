# Medical MAE pretraining data "0.5M": NIH + CheXpert + MIMIC-CXR (train split,
# AP/PA views), same pipeline as the 0.3M set.
_base_ = ['./pretrain_data_nih-chexpert-224.py']
mimic_train = dict(
    type='MIMICCXR',
    data_root='data/mimic-cxr/',
    split='train',
    pipeline={{_base_.train_pipeline}},
)
train_dataloader = dict(
    dataset=dict(
        type='ConcatDataset',
        datasets=[{{_base_.nih_train}}, {{_base_.chexpert_train}}, mimic_train],
    ),
)
