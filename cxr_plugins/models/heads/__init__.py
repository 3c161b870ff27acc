"""Classification heads and losses (mmpretrain registry).

The heads themselves are mmpretrain's (``MultiLabelLinearClsHead``,
``LinearClsHead``, ``VisionTransformerClsHead``); this package adds the
ignore-aware multi-label loss they need for CheXpert U-Ignore labels.
"""

from .masked_bce_loss import CXRMaskedBCELoss, masked_bce_with_logits

__all__ = ['CXRMaskedBCELoss', 'masked_bce_with_logits']
