"""Focal loss usable on CPU with class-index targets (mmseg ``MODELS``).

mmseg 1.2.2's ``FocalLoss`` (Lin et al., https://arxiv.org/abs/1708.02002)
picks ``target[:, num_classes]`` instead of ``target[:, :num_classes]`` on its
CPU path, so index targets raise a shape error. This wrapper turns index
targets into one-hot targets (ignored pixels weighted 0) and otherwise defers
to mmseg; CUDA tensors take mmseg's path unchanged.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from mmseg.models.losses import FocalLoss
from mmseg.registry import MODELS


def one_hot_with_valid(
    target: torch.Tensor, num_classes: int, ignore_index: int
) -> tuple[torch.Tensor, torch.Tensor]:
    """``(B, H, W)`` indices -> ``(B, C, H, W)`` one-hot and ``(B*H*W,)`` validity.

    Ignored pixels get an all-zero one-hot row and validity 0. With a single
    (sigmoid) channel, class 1 is the positive class.
    """
    valid = target != ignore_index
    safe = torch.where(valid, target, torch.zeros_like(target)).long()
    if num_classes == 1:
        one_hot = (safe == 1).long().unsqueeze(1)
    else:
        one_hot = F.one_hot(safe, num_classes).permute(0, 3, 1, 2)
    one_hot = one_hot * valid.unsqueeze(1)
    return one_hot, valid.reshape(-1).float()


@MODELS.register_module()
class CXRFocalLoss(FocalLoss):
    """mmseg ``FocalLoss`` that also accepts class-index targets on CPU.

    Takes the same arguments as mmseg's ``FocalLoss``.
    """

    def forward(
        self,
        pred: torch.Tensor,
        target: torch.Tensor,
        weight: torch.Tensor | None = None,
        avg_factor: int | None = None,
        reduction_override: str | None = None,
        ignore_index: int = 255,
        **kwargs,
    ) -> torch.Tensor:
        """Focal loss of ``pred`` (B, C, H, W) against indices or one-hot."""
        if pred.is_cuda or pred.shape == target.shape:
            return super().forward(
                pred,
                target,
                weight,
                avg_factor,
                reduction_override,
                ignore_index,
                **kwargs,
            )
        one_hot, valid = one_hot_with_valid(target, pred.size(1), ignore_index)
        pixel_weight = valid if weight is None else valid * weight.reshape(-1)
        return super().forward(
            pred,
            one_hot,
            pixel_weight,
            avg_factor,
            reduction_override,
            ignore_index,
            **kwargs,
        )
