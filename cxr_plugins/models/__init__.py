"""Backbones, heads and self-supervised algorithms (mmpretrain registry)."""

from . import backbones, heads, selfsup, text, utils

__all__ = ['backbones', 'heads', 'selfsup', 'text', 'utils']
