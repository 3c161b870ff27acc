"""Vision Transformer for chest X-rays, shared by pretraining, classification
and segmentation.

Dosovitskiy et al., "An Image is Worth 16x16 Words", ICLR 2021
(https://arxiv.org/abs/2010.11929), with the MAE fine-tuning head of He et al.,
"Masked Autoencoders Are Scalable Vision Learners", CVPR 2022
(https://arxiv.org/abs/2111.06377): mean of the patch tokens followed by a
LayerNorm (``fc_norm``), no final norm. This is the setting of Medical MAE,
MRM and EVA-X fine-tuning.

The transformer itself is mmpretrain's ``VisionTransformer`` (SDPA attention,
pos-embed resizing on load, ``out_indices`` for dense tasks); this class only
sets the chest X-ray defaults and adds a tiny arch for tests and demos. Weights
saved by mmpretrain's ``MAEViT`` (the MAE encoder) load into it unchanged.
"""

from __future__ import annotations

from mmpretrain.models.backbones import VisionTransformer
from mmpretrain.registry import MODELS


@MODELS.register_module()
class CXRViT(VisionTransformer):
    """ViT with MAE-style global average pooling + ``fc_norm`` by default.

    Args:
        arch: One of mmpretrain's ViT archs (``'deit-tiny'``, ``'deit-small'``,
            ``'base'``, ``'large'`` ...), the aliases ``'tiny'``/``'small'``
            (ViT-Ti/S as Medical MAE and EVA-X define them), ``'demo'`` (a 4-layer
            128-d model for CPU demos and tests), or a dict with ``embed_dims``,
            ``num_layers``, ``num_heads`` and ``feedforward_channels``.
        out_type: ``'avg_featmap'`` (MAE global pool + fc_norm, default),
            ``'cls_token'``, ``'featmap'`` (for segmentation) or ``'raw'``.
        final_norm: Apply the last LayerNorm to all tokens. ``False`` in the
            MAE fine-tuning recipe, where ``fc_norm`` replaces it.
        **kwargs: Passed to mmpretrain's ``VisionTransformer``.

    Example:
        >>> import torch
        >>> model = CXRViT(arch='demo', img_size=64, patch_size=8)
        >>> model(torch.rand(2, 3, 64, 64))[0].shape
        torch.Size([2, 128])
    """

    arch_zoo = {
        **VisionTransformer.arch_zoo,
        **dict.fromkeys(
            ['t', 'tiny'],
            {
                'embed_dims': 192,
                'num_layers': 12,
                'num_heads': 3,
                'feedforward_channels': 768,
            },
        ),
        **dict.fromkeys(
            ['s', 'small'],
            {
                'embed_dims': 384,
                'num_layers': 12,
                'num_heads': 6,
                'feedforward_channels': 1536,
            },
        ),
        'demo': {
            'embed_dims': 128,
            'num_layers': 4,
            'num_heads': 4,
            'feedforward_channels': 512,
        },
    }

    def __init__(
        self,
        arch: str | dict = 'small',
        out_type: str = 'avg_featmap',
        final_norm: bool = False,
        **kwargs,
    ) -> None:
        super().__init__(arch=arch, out_type=out_type, final_norm=final_norm, **kwargs)
