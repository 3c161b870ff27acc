# Runtime shared by self-supervised pretraining configs (mmpretrain scope).
_base_ = ['./default_runtime_cls.py']

default_hooks = dict(
    logger=dict(interval=20),
    checkpoint=dict(type='CheckpointHook', interval=20, max_keep_ckpts=3),
)
log_processor = dict(
    window_size=10,
    custom_cfg=[dict(data_src='', method='mean', window_size='global')],
)
