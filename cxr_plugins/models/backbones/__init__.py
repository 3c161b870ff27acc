"""Backbones registered into mmpretrain's MODELS registry.

ResNet-50 is mmpretrain's ``ResNet`` (torchvision key names) and any timm
model is mmpretrain's ``TIMMBackbone``; both need no code here.
"""

from .cxr_vit import CXRViT
from .eva_x import EVAX
from .torchvision_densenet import CXRDenseNet

__all__ = ['CXRDenseNet', 'CXRViT', 'EVAX']
