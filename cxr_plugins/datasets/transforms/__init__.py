"""Chest X-ray transforms (mmpretrain TRANSFORMS registry)."""

from .loading import BadXRayImageError, LoadXRayImage

__all__ = ['BadXRayImageError', 'LoadXRayImage']
