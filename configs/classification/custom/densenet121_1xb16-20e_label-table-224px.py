# Your own labelled table (CSV / TSV / parquet): one row per image with an
# image path, a patient id and 0/1 label columns named as you like
# (CXRLabelTable). DenseNet-121 from scratch, multi-label BCE that ignores -1,
# 224 px, AdamW + warmup/cosine, seeded label-stratified patient split
# 70/10/20 unless your table has a split column, checkpoint selected on
# validation mAUC. Point at the data and name the labels:
#   classes = ['Cardiomegaly', 'Effusion']
#   table = dict(data_root='data/my_csv/', ann_file='labels.csv', classes=classes)
#   train_dataloader = dict(dataset=table)   # and val_/test_dataloader
#   model = dict(head=dict(num_classes=len(classes)))
#   data_preprocessor = dict(num_classes=len(classes))
# See docs/fine_tune_on_my_csv.md.
_base_ = [
    '../../_base_/models/cls_densenet121_multilabel.py',
    '../../_base_/datasets/cls_common_224px.py',
    '../../_base_/schedules/cls_adamw_warmup-cosine_cnn.py',
    '../../_base_/default_runtime_cls.py',
]
patient_split = dict(train=0.7, val=0.1, test=0.2)
label_table = dict(
    type='CXRLabelTable',
    data_root='data/my_csv/',
    ann_file='labels.csv',
    classes=['label'],
    path_column='path',
    patient_column='patient',
    patient_split=patient_split,
    seed=0,
    meta_columns=dict(),
)
model = dict(head=dict(num_classes=1))
data_preprocessor = dict(num_classes=1)
train_dataloader = dict(
    batch_size=16, num_workers=2, dataset=dict(label_table, split='train')
)
val_dataloader = dict(
    batch_size=32, num_workers=2, dataset=dict(label_table, split='val')
)
test_dataloader = dict(
    batch_size=32, num_workers=2, dataset=dict(label_table, split='test')
)
test_evaluator = dict(type='MultiLabelAUC', bootstrap=1000)
optim_wrapper = dict(
    optimizer=dict(lr=1e-3 * 16 / 256),
)
warmup_epochs = 2
max_epochs = 20
param_scheduler = [
    dict(_base_.param_scheduler[0], end=warmup_epochs),
    dict(_base_.param_scheduler[1], begin=warmup_epochs, end=max_epochs),
]
train_cfg = dict(max_epochs=max_epochs, val_interval=1)
default_hooks = dict(
    logger=dict(interval=10),
    checkpoint=dict(interval=1, max_keep_ckpts=1, save_best='auc/mAUC', rule='greater'),
)
auto_scale_lr = dict(base_batch_size=16)
