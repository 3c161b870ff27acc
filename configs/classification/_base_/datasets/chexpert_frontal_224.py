# CheXpert 5 classes, frontal (configs/_base_/datasets/chexpert_224px.py) with
# EVA-X's image statistics (0.49185 / 0.28509) and a bootstrap CI at test.
_base_ = ['../../../_base_/datasets/chexpert_224px.py']
data_preprocessor = dict(mean=[125.42] * 3, std=[72.70] * 3)
train_dataloader = dict(batch_size=256)
test_evaluator = dict(type='MultiLabelAUC', bootstrap=1000)
