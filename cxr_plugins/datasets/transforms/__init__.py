"""Chest X-ray transforms (mmpretrain TRANSFORMS registry)."""

from cxr_plugins.datasets.transforms.fast_loading import (
    CachedXRayRandomResizedCrop,
    FastXRayRandomResizedCrop,
)
from cxr_plugins.datasets.transforms.loading import BadXRayImageError, LoadXRayImage
from cxr_plugins.datasets.transforms.msmae_crop import MSMAERandomResizedCrop

__all__ = [
    'BadXRayImageError',
    'LoadXRayImage',
    'FastXRayRandomResizedCrop',
    'CachedXRayRandomResizedCrop',
    'MSMAERandomResizedCrop',
]
