"""The ViT input path, written once: patch tokens -> transformer-block input.

mmpretrain's ``VisionTransformer.forward`` embeds patches, prepends the CLS
token, adds the (resized) position embedding, then applies ``drop_after_pos``
and ``pre_norm`` inside one ``forward``; it has no entry point that stops
there or that takes a kept-patch subset or mask tokens. MSMAE (encode the kept
patches only, Mao et al., https://arxiv.org/abs/2305.05871) and EVA-X MIM
(masked patches replaced by a learnable token, Yao et al.,
https://arxiv.org/abs/2405.05237) need exactly those two variations, so the
path lives here, modelled on timm's ``VisionTransformer._pos_embed``.
"""

from __future__ import annotations

import torch
from mmpretrain.models.backbones import VisionTransformer
from mmpretrain.models.utils import resize_pos_embed


def gather_tokens(tokens: torch.Tensor, ids: torch.Tensor) -> torch.Tensor:
    """Select tokens per sample; gradients flow back to the selected tokens.

    Args:
        tokens: ``(B, L, C)`` token sequence.
        ids: ``(B, K)`` indices into ``L``.

    Returns:
        ``(B, K, C)`` selected tokens.
    """
    index = ids.unsqueeze(-1).expand(-1, -1, tokens.shape[-1])
    return torch.gather(tokens, 1, index)


def embed_vit_tokens(
    vit: VisionTransformer,
    images: torch.Tensor,
    ids_kept: torch.Tensor | None = None,
    mask: torch.Tensor | None = None,
    mask_token: torch.Tensor | None = None,
) -> tuple[torch.Tensor, tuple[int, int]]:
    """Embed images into the first transformer block's input tokens.

    Patch embedding, optional mask-token replacement, position embedding
    (resized when the image's patch grid differs from the configured one),
    optional kept-patch selection, CLS token, then ``drop_after_pos`` and
    ``pre_norm``: the input path of mmpretrain's ``VisionTransformer.forward``.

    Args:
        vit: An mmpretrain ``VisionTransformer`` (``CXRViT``, ``MAEViT``, ...).
        images: ``(B, C, H, W)`` normalised images.
        ids_kept: ``(B, n)`` patch indices (raster order) to keep, or None
            for every patch.
        mask: ``(B, L)`` boolean patch mask; ``True`` patches are replaced by
            ``mask_token`` before the position embedding is added.
        mask_token: ``(1, 1, D)`` token for ``mask`` (required with it).

    Returns:
        ``(tokens, patch_resolution)``: ``(B, num_extra_tokens + n, D)``
        tokens and the ``(h, w)`` patch grid of ``images``.
    """
    if (mask is None) != (mask_token is None):
        raise ValueError('mask and mask_token must be given together')
    tokens, patch_resolution = vit.patch_embed(images)
    if mask is not None:
        weight = mask.unsqueeze(-1).to(tokens.dtype)
        tokens = tokens * (1 - weight) + mask_token.to(tokens.dtype) * weight
    pos_embed = resize_pos_embed(
        vit.pos_embed,
        vit.patch_resolution,
        patch_resolution,
        mode=vit.interpolate_mode,
        num_extra_tokens=vit.num_extra_tokens,
    )
    extra = vit.num_extra_tokens
    tokens = tokens + pos_embed[:, extra:]
    if ids_kept is not None:
        tokens = gather_tokens(tokens, ids_kept)
    if vit.cls_token is not None:
        cls_token = vit.cls_token + pos_embed[:, :extra]
        tokens = torch.cat((cls_token.expand(tokens.shape[0], -1, -1), tokens), 1)
    return vit.pre_norm(vit.drop_after_pos(tokens)), patch_resolution
