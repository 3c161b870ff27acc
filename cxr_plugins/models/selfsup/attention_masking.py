"""Attention-driven masking and throwing for MSMAE, in pure torch.

Mao et al., "Masked Self-supervised Masked Autoencoder for medical images"
(MSMAE, https://arxiv.org/abs/2305.05871), derived from AMT ("attention-driven
masking and throwing", https://arxiv.org/abs/2306.15308). The functions here
take and return tensors only, so they are unit-testable without mmengine:

- :func:`cls_patch_attention`: CLS->patch attention of a transformer block,
  computed from the block's ``qkv`` projection (mmpretrain's attention module
  returns no weights).
- :func:`normalize_head_attention`: per-head min-max normalisation, then the
  mean over heads (the released code hard-codes 12 heads and 196 patches; here
  any head count and grid work).
- :func:`attention_mask_throw`: per-sample multinomial sampling of patches into
  masked, thrown and kept sets with exact counts.
- :func:`crop_flip_patch_maps`: makes a stored patch-grid map follow the
  sample's RandomResizedCrop box and horizontal flip. The released code slices
  the top-left cells of the map instead of the crop region (see
  ``maskRandomResizedCrop`` in its ``datasets.py``).
"""

from __future__ import annotations

from typing import NamedTuple

import torch
import torch.nn.functional as F

MASKED = 1
THROWN = -1
KEPT = 0


def cls_patch_attention(
    tokens: torch.Tensor,
    qkv: torch.nn.Linear,
    num_heads: int,
    num_extra_tokens: int = 1,
) -> torch.Tensor:
    """Softmax attention of the CLS query over the patch keys.

    Args:
        tokens: The block's normalised input ``(B, N, C)`` (after ``ln1``),
            with the CLS token first.
        qkv: The block's fused query/key/value projection (``C -> 3C``).
        num_heads: Number of attention heads.
        num_extra_tokens: Number of leading non-patch tokens (CLS = 1).

    Returns:
        ``(B, num_heads, N - num_extra_tokens)``: row 0 of each head's
        attention matrix restricted to the patch columns.
    """
    batch, length, channels = tokens.shape
    head_dims = channels // num_heads
    q, k, _ = (
        qkv(tokens)
        .reshape(batch, length, 3, num_heads, head_dims)
        .permute(2, 0, 3, 1, 4)
    )
    logits = q[:, :, :1] @ k.transpose(-2, -1) * head_dims**-0.5
    return logits.softmax(dim=-1)[:, :, 0, num_extra_tokens:]


def normalize_head_attention(
    attention: torch.Tensor, eps: float = 1e-12
) -> torch.Tensor:
    """Min-max normalise each head over the patches, then average the heads.

    Args:
        attention: ``(B, heads, L)`` attention weights.
        eps: Guards constant maps against division by zero.

    Returns:
        ``(B, L)`` map in ``[0, 1]``.
    """
    low = attention.amin(dim=-1, keepdim=True)
    high = attention.amax(dim=-1, keepdim=True)
    return ((attention - low) / (high - low + eps)).mean(dim=1)


class MaskThrowSplit(NamedTuple):
    """Result of :func:`attention_mask_throw`.

    Attributes:
        ids_shuffle: ``(B, L)`` patch indices, ordered masked, thrown, kept.
        codes: ``(B, L)`` per-patch code: 1 masked, -1 thrown, 0 kept.
        num_masked: Patches masked per sample.
        num_thrown: Patches thrown per sample.
    """

    ids_shuffle: torch.Tensor
    codes: torch.Tensor
    num_masked: int
    num_thrown: int

    @property
    def ids_kept(self) -> torch.Tensor:
        """``(B, n_kept)`` indices of the patches the encoder sees."""
        return self.ids_shuffle[:, self.num_masked + self.num_thrown :]

    @property
    def ids_masked(self) -> torch.Tensor:
        """``(B, n_masked)`` indices of the reconstruction targets."""
        return self.ids_shuffle[:, : self.num_masked]


def attention_mask_throw(
    weights: torch.Tensor,
    mask_ratio: float,
    throw_ratio: float = 0.0,
    generator: torch.Generator | None = None,
) -> MaskThrowSplit:
    """Sample masked, thrown and kept patches in proportion to attention.

    Patches are drawn without replacement with probability proportional to
    ``weights`` (``torch.multinomial``), so high-attention patches tend to be
    masked first, then thrown; the rest stay visible. Counts follow the
    released code: ``int(L * mask_ratio)`` masked and
    ``int(L * (mask_ratio + throw_ratio)) - int(L * mask_ratio)`` thrown.
    Uniform weights give plain random masking.

    Args:
        weights: ``(B, L)`` non-negative sampling weights, each row with at
            least one positive entry.
        mask_ratio: Fraction of patches to mask.
        throw_ratio: Fraction of patches neither encoded nor reconstructed.
        generator: Optional RNG for reproducible sampling.

    Returns:
        A :class:`MaskThrowSplit`.
    """
    if weights.dim() != 2:
        raise ValueError(f'weights must be (B, L), got shape {tuple(weights.shape)}')
    if not (0 <= mask_ratio and 0 <= throw_ratio and mask_ratio + throw_ratio < 1):
        raise ValueError(
            f'need 0 <= mask_ratio, throw_ratio and mask_ratio + throw_ratio < 1, '
            f'got mask_ratio={mask_ratio}, throw_ratio={throw_ratio}'
        )
    batch, length = weights.shape
    num_masked = int(length * mask_ratio)
    num_thrown = int(length * (mask_ratio + throw_ratio)) - num_masked
    # A tiny floor keeps zero-attention patches drawable (multinomial without
    # replacement needs L positive entries to return L indices).
    probs = weights.detach().float().clamp_min(0) + 1e-6
    ids_shuffle = torch.multinomial(
        probs, length, replacement=False, generator=generator
    )
    order_codes = torch.full(
        (batch, length), KEPT, dtype=torch.long, device=weights.device
    )
    order_codes[:, :num_masked] = MASKED
    order_codes[:, num_masked : num_masked + num_thrown] = THROWN
    codes = torch.empty_like(order_codes).scatter_(1, ids_shuffle, order_codes)
    return MaskThrowSplit(ids_shuffle, codes, num_masked, num_thrown)


def crop_flip_patch_maps(
    maps: torch.Tensor,
    crop_boxes: torch.Tensor,
    flips: torch.Tensor,
    out_grid: tuple[int, int],
    samples_per_cell: int = 4,
) -> torch.Tensor:
    """Apply each sample's crop box and horizontal flip to its attention map.

    The stored map covers the whole image (it is computed on a deterministic
    resize without crop). Each output patch cell averages the map over
    ``samples_per_cell**2`` points spread over the part of the crop box it
    covers (nearest-cell lookup), i.e. the area-weighted mean of the map cells
    under that output patch: an identity box returns the map unchanged.

    Args:
        maps: ``(B, h, w)`` maps over the full image.
        crop_boxes: ``(B, 4)`` crop boxes ``(top, left, bottom, right)`` as
            fractions of the image height/width, in ``[0, 1]``.
        flips: ``(B,)`` bool, True where the crop was flipped horizontally
            after cropping.
        out_grid: ``(gh, gw)`` patch grid of the network input.
        samples_per_cell: Sampling points per cell side.

    Returns:
        ``(B, gh, gw)`` maps aligned with the augmented image's patches.
    """
    batch = maps.shape[0]
    grid_h, grid_w = out_grid
    steps_h, steps_w = grid_h * samples_per_cell, grid_w * samples_per_cell
    # Sample centres in [0, 1] of the crop, then mapped into the full image.
    frac_h = (
        torch.arange(steps_h, device=maps.device, dtype=maps.dtype) + 0.5
    ) / steps_h
    frac_w = (
        torch.arange(steps_w, device=maps.device, dtype=maps.dtype) + 0.5
    ) / steps_w
    boxes = crop_boxes.to(maps)
    frac_w = frac_w.expand(batch, -1)
    frac_w = torch.where(flips.to(maps.device).view(-1, 1), 1 - frac_w, frac_w)
    ys = boxes[:, :1] + frac_h * (boxes[:, 2:3] - boxes[:, :1])
    xs = boxes[:, 1:2] + frac_w * (boxes[:, 3:4] - boxes[:, 1:2])
    grid = torch.stack(
        [
            xs[:, None, :].expand(-1, steps_h, -1),
            ys[:, :, None].expand(-1, -1, steps_w),
        ],
        dim=-1,
    )
    sampled = F.grid_sample(
        maps[:, None],
        grid * 2 - 1,
        mode='nearest',
        padding_mode='border',
        align_corners=False,
    )
    return F.avg_pool2d(sampled, samples_per_cell)[:, 0]
