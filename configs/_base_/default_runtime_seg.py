# Runtime shared by segmentation configs (mmseg scope).
default_scope = 'mmseg'
custom_imports = dict(
    imports=['cxr_plugins', 'cxr_plugins.seg'], allow_failed_imports=False
)

default_hooks = dict(
    timer=dict(type='IterTimerHook'),
    logger=dict(type='LoggerHook', interval=50, log_metric_by_epoch=False),
    param_scheduler=dict(type='ParamSchedulerHook'),
    checkpoint=dict(
        type='CheckpointHook', by_epoch=False, interval=1000, max_keep_ckpts=2
    ),
    sampler_seed=dict(type='DistSamplerSeedHook'),
    visualization=dict(type='SegVisualizationHook'),
)

# Stop on a NaN/Inf loss (saving the last good state) and keep the random
# generators in checkpoints so a resumed run continues exactly.
custom_hooks = [
    dict(type='mmpretrain.NaNGuardHook'),
    dict(type='mmpretrain.RNGStateHook'),
]

env_cfg = dict(
    cudnn_benchmark=False,
    mp_cfg=dict(mp_start_method='fork', opencv_num_threads=0),
    dist_cfg=dict(backend='nccl'),
)

vis_backends = [dict(type='LocalVisBackend'), dict(type='TensorboardVisBackend')]
visualizer = dict(
    type='SegLocalVisualizer', vis_backends=vis_backends, name='visualizer'
)
log_processor = dict(by_epoch=False)

log_level = 'INFO'
load_from = None
resume = False
randomness = dict(seed=0, deterministic=False)
