"""Backbones registered into mmpretrain's MODELS registry."""

from .cxr_vit import CXRViT

__all__ = ['CXRViT']
