# CPU demo of MRM on the ieee8023 COVID-19 collection's image + clinical-notes
# pairs (464 rows with notes). Point the dataset at the folder holding
# metadata.csv and images/ with
#   --cfg-options train_dataloader.dataset.data_root=../shared/data/covid_cxr/
# Tokenizer: tools/train_tokenizer.py on the IU-Xray reports + these notes:
#   python tools/train_tokenizer.py --vocab-size 5000 \
#     --iu-xray ../shared/data/labels/iu_xray_openi/NLMCXR_reports.tgz \
#     --csv ../shared/data/covid_cxr/metadata.csv --column clinical_notes \
#     --out work_dirs/tokenizer/iu_xray_covid_wordpiece.json
# 128 px crops; the encoder sees them at 64 px (8 px patches) and the decoder
# predicts the 16 px patches of the 128 px image (MRM's low-res in / high-res
# out at 1/3.5 scale).
_base_ = [
    '../../_base_/models/pretrain_mrm_vit-base-p16_dec768d4b.py',
    '../../_base_/schedules/pretrain_adamw_warmup-cosine.py',
    '../../_base_/default_runtime_pretrain.py',
]
data_root = 'data/covid_cxr/'
tokenizer_file = 'work_dirs/tokenizer/iu_xray_covid_wordpiece.json'
encoder_size = 64
target_size = 128
model = dict(
    encoder_size=encoder_size,
    backbone=dict(arch='demo', img_size=encoder_size, patch_size=8),
    neck=dict(
        num_patches=64,
        patch_size=16,
        embed_dim=128,
        decoder_embed_dim=128,
        decoder_depth=2,
        decoder_num_heads=4,
    ),
    head=dict(patch_size=16),
    text_encoder=dict(
        vocab_size=5000,
        hidden_dims=128,
        num_layers=2,
        num_heads=4,
        feedforward_channels=512,
    ),
)
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
    num_workers=2,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=True),
    collate_fn=dict(type='default_collate'),
    dataset=dict(
        type='CXRImageReportDataset',
        source='covid_ieee8023',
        data_root=data_root,
        ann_file='metadata.csv',
        data_prefix='images',
        views=('PA', 'AP', 'AP Supine'),
        pipeline=train_pipeline,
    ),
)
# Seed blr 1.5e-4 per 256 images, x10 for a run of a few hundred steps.
base_lr = 1.5e-3
warmup_epochs = 3
max_epochs = 30
optim_wrapper = dict(optimizer=dict(lr=base_lr))
param_scheduler = [
    dict(_base_.param_scheduler[0], start_factor=1e-3, end=warmup_epochs),
    dict(_base_.param_scheduler[1], begin=warmup_epochs, end=max_epochs),
]
train_cfg = dict(max_epochs=max_epochs)
default_hooks = dict(
    logger=dict(interval=5), checkpoint=dict(interval=10, max_keep_ckpts=1)
)
