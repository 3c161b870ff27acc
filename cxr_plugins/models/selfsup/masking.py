"""Pure-torch patch masking for masked image modelling on chest X-rays.

Three schemes, each a small function over tensors (no OpenMMLab imports), so
they are unit-testable and reusable by every pretraining algorithm:

* :func:`random_masking`: MAE's per-sample uniform masking with an exact count of
  masked patches per image (He et al., https://arxiv.org/abs/2111.06377).
* :func:`block_wise_masking`: BEiT's block-wise masking (Bao et al.,
  https://arxiv.org/abs/2106.08254), used by the EVA-X-style MIM.
* :func:`patch_zero_masking`: zero whole patches of the image itself, as Medical
  MAE's CNN-MAE does (Xiao et al., https://arxiv.org/abs/2210.12843).

Every function takes an optional ``torch.Generator`` so that a seeded generator
gives the same masks on every run. The masks use MAE's convention: ``1`` (or
``True``) = masked, ``0`` = visible.
"""

from __future__ import annotations

import math
from typing import NamedTuple

import torch


class RandomMask(NamedTuple):
    """Indices describing one random masking of a batch of token sequences.

    Attributes:
        ids_keep: ``(B, L_keep)`` indices of the visible tokens, in shuffled order.
        mask: ``(B, L)`` float mask, 1 = masked, 0 = visible, in the original order.
        ids_restore: ``(B, L)`` indices that undo the shuffle (MAE's decoder uses
            them to put the mask tokens back in place).
    """

    ids_keep: torch.Tensor
    mask: torch.Tensor
    ids_restore: torch.Tensor


def _check_ratio(mask_ratio: float) -> None:
    if not 0.0 <= mask_ratio < 1.0:
        raise ValueError(f'mask_ratio must be in [0, 1), got {mask_ratio}')


def num_masked_patches(num_patches: int, mask_ratio: float) -> int:
    """Number of masked patches per image, as MAE counts them.

    MAE keeps ``int(L * (1 - mask_ratio))`` tokens; the rest are masked.

    Args:
        num_patches: Tokens per image ``L``.
        mask_ratio: Fraction of tokens to mask, in ``[0, 1)``.

    Returns:
        ``L - int(L * (1 - mask_ratio))``.
    """
    _check_ratio(mask_ratio)
    return num_patches - int(num_patches * (1 - mask_ratio))


def random_masking(
    batch_size: int,
    num_patches: int,
    mask_ratio: float,
    generator: torch.Generator | None = None,
    device: torch.device | str | None = None,
) -> RandomMask:
    """Per-sample uniform random masking with an exact masked count per image.

    Args:
        batch_size: Number of images ``B``.
        num_patches: Tokens per image ``L``.
        mask_ratio: Fraction of tokens to mask, in ``[0, 1)``.
        generator: Optional seeded generator (on ``device``) for reproducible masks.
        device: Device of the returned tensors.

    Returns:
        A :class:`RandomMask`.
    """
    num_masked = num_masked_patches(num_patches, mask_ratio)
    num_keep = num_patches - num_masked
    noise = torch.rand(batch_size, num_patches, generator=generator, device=device)
    ids_shuffle = torch.argsort(noise, dim=1)
    ids_restore = torch.argsort(ids_shuffle, dim=1)
    shuffled_mask = torch.ones(batch_size, num_patches, device=noise.device)
    shuffled_mask[:, :num_keep] = 0
    mask = torch.gather(shuffled_mask, 1, ids_restore)
    return RandomMask(ids_shuffle[:, :num_keep], mask, ids_restore)


def _uniform(low: float, high: float, generator: torch.Generator | None) -> float:
    return low + (high - low) * torch.rand((), generator=generator).item()


def _randint(high_inclusive: int, generator: torch.Generator | None) -> int:
    return int(torch.randint(0, high_inclusive + 1, (), generator=generator).item())


def _place_one_block(
    mask: torch.Tensor,
    max_new_patches: int,
    min_block_patches: int,
    log_aspect_range: tuple[float, float],
    generator: torch.Generator | None,
) -> int:
    """Try (up to 10 times) to mask one rectangle; return how many patches it added."""
    height, width = mask.shape
    for _ in range(10):
        target_area = _uniform(min_block_patches, max_new_patches, generator)
        aspect_ratio = math.exp(_uniform(*log_aspect_range, generator))
        block_h = int(round(math.sqrt(target_area * aspect_ratio)))
        block_w = int(round(math.sqrt(target_area / aspect_ratio)))
        if block_h >= height or block_w >= width or block_h < 1 or block_w < 1:
            continue
        top = _randint(height - block_h, generator)
        left = _randint(width - block_w, generator)
        block = mask[top : top + block_h, left : left + block_w]
        added = block_h * block_w - int(block.sum().item())
        if 0 < added <= max_new_patches:
            block.fill_(True)
            return added
    return 0


def block_wise_masking(
    batch_size: int,
    grid_size: tuple[int, int],
    num_masking_patches: int,
    min_block_patches: int = 4,
    min_aspect: float = 0.3,
    generator: torch.Generator | None = None,
    device: torch.device | str | None = None,
) -> torch.Tensor:
    """BEiT block-wise masking with exactly ``num_masking_patches`` per image.

    Rectangles of random area (``>= min_block_patches``) and aspect ratio (in
    ``[min_aspect, 1 / min_aspect]``, log-uniform) are masked until the budget is
    reached, as in BEiT's ``MaskingGenerator``. BEiT can stop short of the budget
    when no rectangle fits; here the shortfall is filled with uniformly random
    visible patches so every image has the same count (a departure from BEiT,
    made so that batches have a fixed number of targets).

    Args:
        batch_size: Number of images ``B``.
        grid_size: Patch grid ``(H, W)``.
        num_masking_patches: Masked patches per image, ``< H * W``.
        min_block_patches: Smallest rectangle area, in patches.
        min_aspect: Smallest aspect ratio of a rectangle.
        generator: Optional seeded generator (CPU) for reproducible masks.
        device: Device of the returned mask.

    Returns:
        ``(B, H * W)`` boolean mask, ``True`` = masked.
    """
    height, width = grid_size
    num_patches = height * width
    if not 0 < num_masking_patches < num_patches:
        raise ValueError(
            f'num_masking_patches must be in (0, {num_patches}), '
            f'got {num_masking_patches}'
        )
    log_aspect_range = (math.log(min_aspect), math.log(1 / min_aspect))
    masks = []
    for _ in range(batch_size):
        mask = torch.zeros(height, width, dtype=torch.bool)
        count = 0
        while count < num_masking_patches:
            budget = num_masking_patches - count
            if budget < min_block_patches:
                break
            added = _place_one_block(
                mask, budget, min_block_patches, log_aspect_range, generator
            )
            if added == 0:
                break
            count += added
        flat = mask.flatten()
        shortfall = num_masking_patches - count
        if shortfall > 0:
            visible = torch.nonzero(~flat).squeeze(1)
            order = torch.randperm(visible.numel(), generator=generator)
            flat[visible[order[:shortfall]]] = True
        masks.append(flat)
    return torch.stack(masks).to(device)


def patch_mask_to_pixels(
    mask: torch.Tensor, grid_size: tuple[int, int], patch_size: int
) -> torch.Tensor:
    """Expand a ``(B, H * W)`` patch mask to a ``(B, 1, H * p, W * p)`` pixel mask.

    Args:
        mask: Patch mask, 1 = masked.
        grid_size: Patch grid ``(H, W)``.
        patch_size: Patch side ``p`` in pixels.

    Returns:
        Pixel mask with the dtype of ``mask``.
    """
    height, width = grid_size
    grid = mask.reshape(mask.shape[0], 1, height, width)
    return grid.repeat_interleave(patch_size, dim=2).repeat_interleave(
        patch_size, dim=3
    )


def patch_zero_masking(
    images: torch.Tensor,
    patch_size: int,
    mask_ratio: float,
    generator: torch.Generator | None = None,
) -> tuple[torch.Tensor, torch.Tensor]:
    """Zero a random subset of ``patch_size`` squares of each image (CNN-MAE).

    Args:
        images: ``(B, C, H, W)`` normalised images, ``H`` and ``W`` multiples of
            ``patch_size``.
        patch_size: Side of a square patch in pixels.
        mask_ratio: Fraction of patches zeroed per image (exact count, as
            :func:`random_masking`).
        generator: Optional seeded generator (on the images' device).

    Returns:
        ``(masked_images, pixel_mask)``: the images with masked patches set to 0,
        and the ``(B, 1, H, W)`` float pixel mask (1 = masked).
    """
    batch_size, _, height, width = images.shape
    if height % patch_size or width % patch_size:
        raise ValueError(
            f'image size {height}x{width} is not a multiple of patch_size {patch_size}'
        )
    grid = (height // patch_size, width // patch_size)
    patch_mask = random_masking(
        batch_size, grid[0] * grid[1], mask_ratio, generator, images.device
    ).mask
    pixel_mask = patch_mask_to_pixels(patch_mask, grid, patch_size).to(images.dtype)
    return images * (1 - pixel_mask), pixel_mask
