_base_ = ['./cls_common_224px.py']

# COVIDx 9A, 3 classes (normal, pneumonia, COVID-19) in EVA-X's order. COVIDx
# ships no validation list: validation is a seeded patient-level 10 % hold-out
# of the train list; test_COVIDx9A.txt (400 images) is the test set.
# For 9B use ann_file='*_COVIDx9B.txt' and classes=('negative', 'positive').
dataset_type = 'COVIDx'
data_root = 'data/covidx/'
val_split = dict(train=0.9, val=0.1)

# NIH statistics, as medical_mae fine-tunes COVIDx, in 0-255 units.
data_preprocessor = dict(
    num_classes=3, mean=[128.928] * 3, std=[64.26] * 3, to_rgb=False
)

train_dataloader = dict(
    dataset=dict(
        type=dataset_type,
        data_root=data_root,
        ann_file='train_COVIDx9A.txt',
        data_prefix='train',
        split='train',
        patient_split=val_split,
    ),
)
val_dataloader = dict(
    dataset=dict(
        type=dataset_type,
        data_root=data_root,
        ann_file='train_COVIDx9A.txt',
        data_prefix='train',
        split='val',
        patient_split=val_split,
    ),
)
test_dataloader = dict(
    dataset=dict(
        type=dataset_type,
        data_root=data_root,
        ann_file='test_COVIDx9A.txt',
        data_prefix='test',
    ),
)
val_evaluator = dict(type='Accuracy', topk=(1,))
test_evaluator = val_evaluator
