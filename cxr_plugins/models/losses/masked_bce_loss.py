"""Binary cross-entropy for multi-label chest X-ray labels with ignored entries.

The BCE-with-logits loss of the multi-label CXR fine-tuning recipes (Medical
MAE, https://arxiv.org/abs/2210.12843; MRM, https://arxiv.org/abs/2301.13155;
EVA-X, https://arxiv.org/abs/2405.05237), extended with the ignore mask that
the CheXpert U-Ignore policy needs: a target of ``-1`` marks an entry that
contributes neither loss nor gradient. mmpretrain's ``CrossEntropyLoss`` with
``use_sigmoid=True`` has no ignore value for soft multi-hot targets, so this
small loss is written here; the head around it is mmpretrain's
``MultiLabelLinearClsHead``.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from mmpretrain.registry import MODELS
from torch import nn

IGNORE_TARGET = -1.0


def masked_bce_with_logits(
    logits: torch.Tensor,
    target: torch.Tensor,
    label_smoothing: float = 0.0,
    ignore_value: float = IGNORE_TARGET,
) -> torch.Tensor:
    """Mean BCE over the entries whose target is not ``ignore_value``.

    Args:
        logits: Raw scores, shape ``(N, C)``.
        target: Multi-hot or soft targets in ``[0, 1]``, ``ignore_value``
            where an entry is unknown; shape ``(N, C)``.
        label_smoothing: ``eps`` in ``t * (1 - eps) + eps / 2``.
        ignore_value: Target value that marks an ignored entry.

    Returns:
        Scalar loss; ``0`` (with a gradient path) when every entry is ignored.
    """
    if logits.shape != target.shape:
        raise ValueError(
            f'masked_bce_with_logits: logits {tuple(logits.shape)} and target '
            f'{tuple(target.shape)} must have the same shape (N, num_classes).'
        )
    target = target.to(logits.dtype)
    valid = target != ignore_value
    clean_target = torch.where(valid, target, torch.zeros_like(target))
    if label_smoothing > 0:
        clean_target = clean_target * (1 - label_smoothing) + label_smoothing / 2
    per_entry = F.binary_cross_entropy_with_logits(
        logits, clean_target, reduction='none'
    )
    per_entry = per_entry * valid.to(per_entry.dtype)
    return per_entry.sum() / valid.sum().clamp(min=1)


@MODELS.register_module()
class CXRMaskedBCELoss(nn.Module):
    """BCE-with-logits averaged over non-ignored entries (``-1`` = ignored).

    Use it as the ``loss`` of mmpretrain's ``MultiLabelLinearClsHead``; the
    head passes ``gt_score`` (the float multi-hot of the CXR datasets, or the
    mixed scores of the batch augments) as the target.

    Args:
        label_smoothing: Smooth targets towards 0.5 by this amount.
        loss_weight: Multiplier of the loss.
    """

    def __init__(self, label_smoothing: float = 0.0, loss_weight: float = 1.0) -> None:
        super().__init__()
        if not 0.0 <= label_smoothing < 1.0:
            raise ValueError(
                f'CXRMaskedBCELoss: label_smoothing={label_smoothing} must be '
                'in [0, 1).'
            )
        self.label_smoothing = label_smoothing
        self.loss_weight = loss_weight

    def forward(
        self,
        cls_score: torch.Tensor,
        target: torch.Tensor,
        avg_factor: int | None = None,
        **kwargs,
    ) -> torch.Tensor:
        """Compute the loss.

        ``avg_factor`` is accepted because mmpretrain's heads always pass it
        (the batch size); the mean is taken over the non-ignored entries
        instead, as ``BCEWithLogitsLoss(reduction='mean')`` does when nothing
        is ignored.
        """
        if kwargs:
            raise TypeError(
                f'CXRMaskedBCELoss got unexpected arguments {sorted(kwargs)}'
            )
        return self.loss_weight * masked_bce_with_logits(
            cls_score, target, self.label_smoothing
        )
