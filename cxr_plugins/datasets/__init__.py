"""Chest X-ray datasets and transforms (mmpretrain registry)."""

from . import transforms

__all__ = ['transforms']
