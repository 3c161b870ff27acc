"""Backbones, losses and self-supervised algorithms (mmpretrain registry).

The mmseg-registered parts (``necks``, ``losses.focal_loss``,
``backbones.smp_backbone``) are imported by :mod:`cxr_plugins.seg` only.
"""

from cxr_plugins.models import backbones, losses, selfsup, utils

__all__ = ['backbones', 'losses', 'selfsup', 'utils']
