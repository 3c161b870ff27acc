# smp U-Net baseline with a DenseNet-121 encoder on SIIM-ACR.
_base_ = ['./unet_resnet50_1xb8-20k_siim-512x512.py']
model = dict(backbone=dict(encoder_name='densenet121'))
