"""Mixup / CutMix for multi-hot chest X-ray labels with ignored entries.

Zhang et al., "mixup: Beyond Empirical Risk Minimization"
(https://arxiv.org/abs/1710.09412) and Yun et al., "CutMix"
(https://arxiv.org/abs/1905.04899). Medical MAE imports a
``util.mixup_multi_label`` that its repository never shipped.

mmpretrain's ``Mixup``/``CutMix`` already mix ``gt_score`` linearly, which is
right for multi-hot targets in ``{0, 1}`` (each class is an independent
Bernoulli target). They break on the ``-1`` ignore value of CheXpert U-Ignore
(``0.5 * -1 + 0.5 * 1 = 0``). These subclasses keep mmpretrain's sampling of
lambda and boxes and only change the target mixing: an entry is ignored in the
mixed sample when it is ignored in either source.
"""

from __future__ import annotations

import numpy as np
import torch
from mmpretrain.models.utils.batch_augments import CutMix, Mixup
from mmpretrain.registry import BATCH_AUGMENTS

from cxr_plugins.models.losses.masked_bce_loss import IGNORE_TARGET


def mix_multi_hot(
    scores: torch.Tensor,
    index: torch.Tensor,
    lam: float,
    ignore_value: float = IGNORE_TARGET,
) -> torch.Tensor:
    """``lam * s + (1 - lam) * s[index]``, ignored where either side is.

    Args:
        scores: ``(N, C)`` targets in ``[0, 1]`` or ``ignore_value``.
        index: Permutation of the batch, shape ``(N,)``.
        lam: Weight of the unpermuted sample.
        ignore_value: Value that marks an ignored entry.

    Returns:
        Mixed ``(N, C)`` targets.
    """
    partner = scores[index]
    mixed = lam * scores + (1 - lam) * partner
    ignored = (scores == ignore_value) | (partner == ignore_value)
    return torch.where(ignored, torch.full_like(mixed, ignore_value), mixed)


@BATCH_AUGMENTS.register_module()
class CXRMultiLabelMixup(Mixup):
    """mmpretrain ``Mixup`` whose target mixing honours ignored entries."""

    def mix(
        self, batch_inputs: torch.Tensor, batch_scores: torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor]:
        lam = float(np.random.beta(self.alpha, self.alpha))
        index = torch.randperm(batch_inputs.size(0), device=batch_inputs.device)
        mixed_inputs = lam * batch_inputs + (1 - lam) * batch_inputs[index]
        return mixed_inputs, mix_multi_hot(batch_scores, index, lam)


@BATCH_AUGMENTS.register_module()
class CXRMultiLabelCutMix(CutMix):
    """mmpretrain ``CutMix`` whose target mixing honours ignored entries."""

    def mix(
        self, batch_inputs: torch.Tensor, batch_scores: torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor]:
        lam = float(np.random.beta(self.alpha, self.alpha))
        index = torch.randperm(batch_inputs.size(0), device=batch_inputs.device)
        (y1, y2, x1, x2), lam = self.cutmix_bbox_and_lam(batch_inputs.shape[-2:], lam)
        batch_inputs[:, :, y1:y2, x1:x2] = batch_inputs[index, :, y1:y2, x1:x2]
        return batch_inputs, mix_multi_hot(batch_scores, index, float(lam))
