# MRM pretraining as released (RL4M/MRM-pytorch run.sh): 4 GPUs x 32 images x 2
# accumulation steps (256 effective), 200 epochs, 40 warmup, blr 1.5e-4
# (lr = blr x 256 / 256), wd 0.05, AdamW (0.9, 0.95), cosine; 448 crops
# (scale 0.2-1), the encoder sees them at 224. Data: MRM's `training.csv`
# (`image_path, report_content`) under `data_root`, and a WordPiece tokenizer
# trained on its reports with tools/train_tokenizer.py (vocab 30,000).
_base_ = [
    '../../_base_/models/pretrain_mrm_vit-base-p16_dec768d4b.py',
    '../../_base_/schedules/pretrain_adamw_warmup-cosine.py',
    '../../_base_/default_runtime_pretrain.py',
]
data_root = 'data/mimic-cxr/'
tokenizer_file = data_root + 'mimic_wordpiece.json'
target_size = 448

train_pipeline = [
    dict(
        type='FastXRayRandomResizedCrop',
        size=target_size,
        scale=(0.2, 1.0),
        flip_prob=0.5,
        interpolation='bicubic',
    ),
    dict(
        type='MRMTokenizeReport',
        tokenizer_file=tokenizer_file,
        max_length=100,
        mask_prob=0.5,
    ),
    dict(type='PackInputs', algorithm_keys=['masked_input_ids', 'mlm_labels']),
]
train_dataloader = dict(
    batch_size=32,
    num_workers=8,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=True),
    collate_fn=dict(type='default_collate'),
    dataset=dict(
        type='CXRImageReportDataset',
        source='csv',
        data_root=data_root,
        ann_file='training.csv',
        data_prefix='',
        pipeline=train_pipeline,
    ),
)

base_lr = 1.5e-4
warmup_epochs = 40
max_epochs = 200
# 4 x 32 per step x 2 accumulated = 256 effective: lr = 1.5e-4 x 256 / 256.
optim_wrapper = dict(optimizer=dict(lr=base_lr), accumulative_counts=2)
auto_scale_lr = dict(enable=False)
param_scheduler = [
    _base_.param_scheduler[0],
    dict(_base_.param_scheduler[1], end=max_epochs),
]
train_cfg = dict(max_epochs=max_epochs)
