"""Losses (mmpretrain registry): the ignore-aware multi-label BCE.

mmpretrain's heads (``MultiLabelLinearClsHead``, ``LinearClsHead``) take it
for CheXpert U-Ignore labels. The segmentation focal loss
(:mod:`~cxr_plugins.models.losses.focal_loss`) registers into mmseg and is
imported by :mod:`cxr_plugins.seg`.
"""

from cxr_plugins.models.losses.masked_bce_loss import (
    CXRMaskedBCELoss,
    masked_bce_with_logits,
)

__all__ = ['CXRMaskedBCELoss', 'masked_bce_with_logits']
