# MAE ViT-L/16 (He et al., https://arxiv.org/abs/2111.06377; 304 M encoder
# parameters) on the Medical MAE data (NIH + CheXpert + MIMIC-CXR), sharded with
# FSDP through mmengine's FlexibleRunner: each >= 5 M-parameter block is one
# FSDP unit, so parameters, gradients and AdamW state are split across the
# processes. 8 GPUs x 128 (auto_scale_lr keeps blr 1.5e-4 per 256).
#   bash tools/dist_train.sh CONFIG 8 --amp     (FSDP is this config's default;
#   --strategy ddp runs it with plain DDP instead)
_base_ = ['./mae_vit-base-p16_dec512d8b_8xb256-800e_nih-chexpert-mimic.py']
model = dict(backbone=dict(arch='l'), neck=dict(embed_dim=1024))
train_dataloader = dict(batch_size=128)
strategy = dict(
    type='FSDPStrategy',
    model_wrapper=dict(
        auto_wrap_policy=dict(
            type='torch.distributed.fsdp.wrap.size_based_auto_wrap_policy',
            min_num_params=5_000_000,
        )
    ),
    state_dict_cfg='full',
)
