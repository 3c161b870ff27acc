# Your own class-per-folder data, <data_root>/{train,val,test}/<class>/<image>
# (PNG, JPEG, BMP, TIFF, DICOM): DenseNet-121 from scratch, single-label
# softmax, 224 px, AdamW + warmup/cosine, checkpoint selected on validation
# accuracy (CXRClsMetrics). The class list comes from train/ (or `classes`)
# and serves every split, so labels cannot flip. Point at the data:
#   train_dataloader = dict(dataset=dict(data_root='data/my_folder/'))  # x3
# and, for more than two classes, set model.head.num_classes and
# data_preprocessor.num_classes. See docs/my_image_folder.md.
_base_ = [
    '../../_base_/models/cls_densenet121_singlelabel.py',
    '../../_base_/datasets/cls_cxr-imagefolder_224px.py',
    '../../_base_/schedules/cls_adamw_warmup-cosine_cnn.py',
    '../../_base_/default_runtime_cls.py',
]
train_dataloader = dict(batch_size=16, num_workers=2)
val_dataloader = dict(batch_size=32, num_workers=2)
test_dataloader = dict(batch_size=32, num_workers=2)
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
    checkpoint=dict(
        interval=1, max_keep_ckpts=1, save_best='cls/accuracy', rule='greater'
    ),
)
auto_scale_lr = dict(base_batch_size=16)
