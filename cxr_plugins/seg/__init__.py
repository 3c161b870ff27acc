"""Segmentation plugins registered into mmseg's registries.

Imported by the segmentation configs (``custom_imports``), never by
``import cxr_plugins``. Images are loaded with mmseg's ``LoadImageFromFile``;
the ViT backbone is mmpretrain's registry entry ``'mmpretrain.CXRViT'``.
"""

from .datasets import CXRBinaryMaskDataset, SIIMPneumothoraxDataset
from .losses import CXRFocalLoss
from .metrics import SIIMDice
from .necks import SimpleFeaturePyramid
from .optimizers import SegLayerDecayOptimWrapperConstructor
from .samplers import PositiveNegativeSampler
from .smp_backbone import SMPBackbone
from .transforms import LoadBinaryMask

__all__ = [
    'CXRBinaryMaskDataset',
    'CXRFocalLoss',
    'LoadBinaryMask',
    'PositiveNegativeSampler',
    'SIIMDice',
    'SIIMPneumothoraxDataset',
    'SMPBackbone',
    'SegLayerDecayOptimWrapperConstructor',
    'SimpleFeaturePyramid',
]
