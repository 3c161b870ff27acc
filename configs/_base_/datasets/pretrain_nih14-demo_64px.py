# Pretraining data for the CPU demos: the 1,000 embedded NIH images at 64 px,
# training patients only (seeded patient-level re-split of the demo table).
# Shared by the MAE, CNN-MAE and EVA-X MIM demo configs.
train_pipeline = [
    dict(
        type='FastXRayRandomResizedCrop',
        size=64,
        scale=(0.5, 1.0),
        flip_prob=0.5,
        interpolation='bicubic',
    ),
    dict(type='PackInputs'),
]
train_dataloader = dict(
    batch_size=32,
    num_workers=1,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=True),
    collate_fn=dict(type='default_collate'),
    dataset=dict(
        type='NIHChestXray14',
        data_root='data/demo/nih14_64px/',
        ann_file='labels.csv',
        split='train',
        patient_split=dict(train=0.6, val=0.2, test=0.2),
        pipeline=train_pipeline,
    ),
)
