# Train on NIH ChestX-ray14, test on CheXpert, on the seven findings both
# label (canonical names, cxr_plugins.datasets.harmonise): Atelectasis,
# Cardiomegaly, Consolidation, Edema, Effusion (CheXpert "Pleural Effusion"),
# Pneumonia, Pneumothorax. NIH's official train_val_list is split 90/10 by
# patient (label-stratified, seeded) for training and model selection; the
# test set is CheXpert's valid.csv (frontal views, uncertain = ignored, i.e.
# -1 and masked out of the AUC). See docs/nih_to_chexpert.md.
_base_ = [
    '../../_base_/models/cls_densenet121_multilabel.py',
    '../../_base_/datasets/cls_common_224px.py',
    '../../_base_/schedules/cls_adamw_warmup-cosine_cnn.py',
    '../../_base_/default_runtime_cls.py',
]
shared_findings = [
    'Atelectasis',
    'Cardiomegaly',
    'Consolidation',
    'Edema',
    'Effusion',
    'Pneumonia',
    'Pneumothorax',
]
nih = dict(
    type='NIHChestXray14',
    data_root='data/nih-cxr14/',
    ann_file='Data_Entry_2017_v2020.csv',
    image_list='train_val_list.txt',
    data_prefix=dict(img_path='images/'),
    patient_split=dict(train=0.9, val=0.1),
    seed=0,
    canonical_labels=shared_findings,
)
chexpert = dict(
    type='CheXpert',
    data_root='data/chexpert/',
    ann_file='CheXpert-v1.0-small/valid.csv',
    classes=[
        'Atelectasis',
        'Cardiomegaly',
        'Consolidation',
        'Edema',
        'Pleural Effusion',
        'Pneumonia',
        'Pneumothorax',
    ],
    uncertain_policy='ignore',
    frontal_only=True,
    canonical_labels=shared_findings,
)
model = dict(head=dict(num_classes=len(shared_findings)))
data_preprocessor = dict(num_classes=len(shared_findings))
train_dataloader = dict(batch_size=16, num_workers=2, dataset=dict(nih, split='train'))
val_dataloader = dict(batch_size=32, num_workers=2, dataset=dict(nih, split='val'))
test_dataloader = dict(batch_size=32, num_workers=2, dataset=chexpert)
test_evaluator = dict(type='MultiLabelAUC', bootstrap=1000)
optim_wrapper = dict(
    optimizer=dict(lr=1e-3 * 16 / 256),
)
warmup_epochs = 1
max_epochs = 10
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
