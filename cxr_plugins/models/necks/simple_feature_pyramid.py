"""ViTDet simple feature pyramid from the last ViT block (mmseg ``MODELS``).

Li et al., "Exploring Plain Vision Transformer Backbones for Object
Detection", ECCV 2022 (https://arxiv.org/abs/2203.16527), as EVA-X
(https://arxiv.org/abs/2405.05237) uses it for segmentation: from the last
feature map only, 4x = ConvT + norm + GELU + ConvT, 2x = ConvT, 1x = identity,
0.5x = max-pool. mmseg's ``Feature2Pyramid`` rescales one map per ViT level
instead; this neck is ours because no library builds all scales from one map.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from mmcv.cnn import build_norm_layer
from mmengine.model import BaseModule
from mmseg.registry import MODELS
from torch import nn


def _rescale_branch(scale: float, channels: int, norm_cfg: dict) -> nn.Module:
    if scale == 4:
        return nn.Sequential(
            nn.ConvTranspose2d(channels, channels, kernel_size=2, stride=2),
            build_norm_layer(norm_cfg, channels)[1],
            nn.GELU(),
            nn.ConvTranspose2d(channels, channels, kernel_size=2, stride=2),
        )
    if scale == 2:
        return nn.ConvTranspose2d(channels, channels, kernel_size=2, stride=2)
    if scale == 1:
        return nn.Identity()
    if scale == 0.5:
        return nn.MaxPool2d(kernel_size=2, stride=2)
    raise KeyError(f'SimpleFeaturePyramid: scale {scale} is not one of 4, 2, 1, 0.5')


@MODELS.register_module()
class SimpleFeaturePyramid(BaseModule):
    """Multi-scale maps from the last backbone feature map (ViTDet / EVA-X).

    Args:
        embed_dim: Channels of the backbone's feature map (kept at every scale).
        rescales: Scale of each output relative to the input map.
        norm_cfg: Norm layer of the 4x branch (``BN`` on CPU, not ``SyncBN``).
        init_cfg: See ``BaseModule``.

    Example:
        >>> neck = SimpleFeaturePyramid(embed_dim=32)
        >>> [o.shape[-1] for o in neck((torch.rand(1, 32, 8, 8),))]
        [32, 16, 8, 4]
    """

    def __init__(
        self,
        embed_dim: int,
        rescales: Sequence[float] = (4, 2, 1, 0.5),
        norm_cfg: dict | None = None,
        init_cfg: dict | None = None,
    ) -> None:
        super().__init__(init_cfg=init_cfg)
        norm_cfg = norm_cfg or dict(type='BN', requires_grad=True)
        self.rescales = tuple(rescales)
        self.branches = nn.ModuleList(
            _rescale_branch(scale, embed_dim, norm_cfg) for scale in self.rescales
        )

    def forward(self, inputs: Sequence[torch.Tensor]) -> tuple[torch.Tensor, ...]:
        """Apply every branch to ``inputs[-1]``."""
        last = inputs[-1]
        return tuple(branch(last) for branch in self.branches)
