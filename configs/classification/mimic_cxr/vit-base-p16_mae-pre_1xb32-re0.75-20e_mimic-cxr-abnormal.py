# MIMIC normal/abnormal with RandomErasing p 0.75. Seed: val AUC 0.799.
_base_ = ['./vit-base-p16_mae-pre_1xb32-re0.25-20e_mimic-cxr-abnormal.py']
train_pipeline = [
    dict(step, erase_prob=0.75) if step['type'] == 'RandomErasing' else step
    for step in _base_.train_pipeline
]
train_dataloader = dict(dataset=dict(pipeline=train_pipeline))
