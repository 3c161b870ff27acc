_base_ = ['./cls_common_224px.py']

# RSNA Pneumonia, binary, DICOM input, MRM's split lists
# (stage_2_train_images/<id>.dcm <0/1>; train_1 / train_10 for 1 % / 10 %).
dataset_type = 'RSNAPneumonia'
data_root = 'data/rsna-pneumonia/'

# MRM statistics (arXiv:2301.13155), in 0-255 units.
data_preprocessor = dict(
    num_classes=2, mean=[126.939] * 3, std=[62.4495] * 3, to_rgb=False
)

train_dataloader = dict(
    dataset=dict(
        type=dataset_type,
        data_root=data_root,
        ann_file='mrm_splits/train_list.txt',
    ),
)
val_dataloader = dict(
    dataset=dict(
        type=dataset_type,
        data_root=data_root,
        ann_file='mrm_splits/val_list.txt',
    ),
)
test_dataloader = dict(
    dataset=dict(
        type=dataset_type,
        data_root=data_root,
        ann_file='mrm_splits/test_list.txt',
    ),
)
val_evaluator = dict(type='Accuracy', topk=(1,))
test_evaluator = val_evaluator
