"""Import-only entry: registers the segmentation modules into mmseg's registries.

Imported by the segmentation configs (``custom_imports``), never by
``import cxr_plugins`` (mmseg and segmentation-models-pytorch are the ``[seg]``
extra). Each module lives in the folder its kind names. Images are loaded with
mmseg's ``LoadImageFromFile``; the ViT backbone is mmpretrain's registry entry
``'mmpretrain.CXRViT'``.
"""

from cxr_plugins.datasets.samplers import PositiveNegativeSampler
from cxr_plugins.datasets.segmentation import (
    CXRBinaryMaskDataset,
    SIIMPneumothoraxDataset,
)
from cxr_plugins.datasets.transforms.mask_loading import LoadBinaryMask
from cxr_plugins.engine.optimizers.seg_layer_decay import (
    SegLayerDecayOptimWrapperConstructor,
)
from cxr_plugins.evaluation.metrics.siim_dice import SIIMDice
from cxr_plugins.models.backbones.smp_backbone import SMPBackbone
from cxr_plugins.models.losses.focal_loss import CXRFocalLoss
from cxr_plugins.models.necks.simple_feature_pyramid import SimpleFeaturePyramid

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
