"""Backbones registered into mmpretrain's MODELS registry.

ResNet-50 is mmpretrain's ``ResNet`` (torchvision key names) and any timm
model is mmpretrain's ``TIMMBackbone``; both need no code here.
"""

from cxr_plugins.models.backbones.cxr_vit import CXRViT
from cxr_plugins.models.backbones.eva_x import EVAX
from cxr_plugins.models.backbones.torchvision_densenet import CXRDenseNet

__all__ = ['CXRDenseNet', 'CXRViT', 'EVAX']
