"""Unit tests of cxr_plugins.models.selfsup.masking (pure torch)."""

import pytest
import torch

from cxr_plugins.models.selfsup.masking import (
    block_wise_masking,
    num_masked_patches,
    patch_mask_to_pixels,
    patch_zero_masking,
    random_masking,
)
from cxr_plugins.models.utils.token_embedding import gather_tokens


@pytest.mark.parametrize('mask_ratio', [0.75, 0.9, 0.95])
def test_random_masking_exact_counts(mask_ratio):
    out = random_masking(5, 196, mask_ratio)
    expected = 196 - int(196 * (1 - mask_ratio))
    assert num_masked_patches(196, mask_ratio) == expected
    assert out.mask.sum(dim=1).tolist() == [expected] * 5
    assert out.ids_keep.shape == (5, 196 - expected)
    # the kept ids are exactly the unmasked positions
    for row in range(5):
        kept = set(out.ids_keep[row].tolist())
        visible = set(torch.nonzero(out.mask[row] == 0).squeeze(1).tolist())
        assert kept == visible
    # ids_restore inverts the shuffle
    tokens = torch.arange(196).expand(5, -1)
    shuffled = torch.gather(tokens, 1, torch.argsort(out.ids_restore, dim=1))
    assert torch.equal(torch.gather(shuffled, 1, out.ids_restore), tokens)


def test_random_masking_differs_per_sample_and_is_seeded():
    first = random_masking(4, 64, 0.75, torch.Generator().manual_seed(3))
    second = random_masking(4, 64, 0.75, torch.Generator().manual_seed(3))
    other = random_masking(4, 64, 0.75, torch.Generator().manual_seed(4))
    assert torch.equal(first.mask, second.mask)
    assert torch.equal(first.ids_keep, second.ids_keep)
    assert not torch.equal(first.mask, other.mask)
    assert not torch.equal(first.mask[0], first.mask[1])


def test_random_masking_rejects_bad_ratio():
    with pytest.raises(ValueError, match='mask_ratio'):
        random_masking(1, 16, 1.0)


def test_gather_tokens_gradient_flows_to_kept_tokens_only():
    tokens = torch.randn(2, 16, 8, requires_grad=True)
    out = random_masking(2, 16, 0.75, torch.Generator().manual_seed(0))
    kept = gather_tokens(tokens, out.ids_keep)
    assert kept.shape == (2, 4, 8)
    assert torch.equal(kept[1, 2], tokens[1, out.ids_keep[1, 2]])
    kept.sum().backward()
    expected = (1 - out.mask).unsqueeze(-1).expand(-1, -1, 8)
    assert torch.equal(tokens.grad, expected)


@pytest.mark.parametrize('num_masking', [3, 20, 40, 60])
def test_block_wise_masking_exact_counts(num_masking):
    mask = block_wise_masking(
        6,
        (8, 8),
        num_masking,
        min_block_patches=4,
        generator=torch.Generator().manual_seed(1),
    )
    assert mask.dtype == torch.bool and mask.shape == (6, 64)
    assert mask.sum(dim=1).tolist() == [num_masking] * 6


def test_block_wise_masking_is_blocky_and_seeded():
    first, second = (
        block_wise_masking(
            4,
            (14, 14),
            78,
            min_block_patches=16,
            generator=torch.Generator().manual_seed(0),
        )
        for _ in range(2)
    )
    assert torch.equal(first, second)
    # Blocks: masked patches mostly have masked 4-neighbours (random masking at
    # 40% would give ~40%).
    grid = first.view(4, 14, 14).float()
    right = (grid[:, :, :-1] * grid[:, :, 1:]).sum() / grid[:, :, :-1].sum()
    assert right > 0.6


def test_patch_mask_to_pixels():
    mask = torch.tensor([[1.0, 0.0, 0.0, 1.0]])
    pixels = patch_mask_to_pixels(mask, (2, 2), 3)
    assert pixels.shape == (1, 1, 6, 6)
    assert pixels[0, 0, :3, :3].eq(1).all() and pixels[0, 0, :3, 3:].eq(0).all()
    assert pixels[0, 0, 3:, 3:].eq(1).all()


def test_patch_zero_masking_zeroes_exact_patches():
    images = torch.rand(3, 3, 32, 32) + 1
    masked, pixel_mask = patch_zero_masking(
        images, 8, 0.75, torch.Generator().manual_seed(0)
    )
    assert pixel_mask.shape == (3, 1, 32, 32)
    assert pixel_mask.sum(dim=(1, 2, 3)).tolist() == [12 * 64.0] * 3
    assert masked[pixel_mask.expand_as(masked) > 0].eq(0).all()
    assert torch.equal(
        masked[pixel_mask.expand_as(masked) == 0],
        images[pixel_mask.expand_as(images) == 0],
    )
    with pytest.raises(ValueError, match='multiple of patch_size'):
        patch_zero_masking(torch.rand(1, 3, 30, 30), 8, 0.75)
