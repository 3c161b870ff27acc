# Medical MAE's CNN-MAE (https://arxiv.org/abs/2210.12843): smp U-Net with a
# DenseNet-121 encoder reconstructs images whose 16x16 patches were zeroed.
# loss_region='masked' follows the paper; 'all' reproduces the seed code.
model = dict(
    type='CNNMAE',
    encoder_name='densenet121',
    mask_ratio=0.75,
    patch_size=16,
    loss_region='masked',
    data_preprocessor=dict(
        type='SelfSupDataPreprocessor', mean=[128.9] * 3, std=[64.3] * 3, to_rgb=False
    ),
)
