"""Chest X-ray transforms (mmpretrain TRANSFORMS registry)."""

from .fast_loading import CachedXRayRandomResizedCrop, FastXRayRandomResizedCrop
from .loading import BadXRayImageError, LoadXRayImage

__all__ = [
    'BadXRayImageError',
    'LoadXRayImage',
    'FastXRayRandomResizedCrop',
    'CachedXRayRandomResizedCrop',
]
