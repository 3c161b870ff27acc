# AdamW + linear warm-up + cosine for CNNs: the ViT fine-tuning schedule
# without layer-wise lr decay (Medical MAE's DenseNet-121 recipe); norms and
# biases keep no weight decay.
_base_ = ['./cls_adamw_layer-decay_warmup-cosine.py']

optim_wrapper = dict(
    constructor='DefaultOptimWrapperConstructor',
    paramwise_cfg=dict(_delete_=True, norm_decay_mult=0.0, bias_decay_mult=0.0),
)
