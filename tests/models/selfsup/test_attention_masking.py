"""MSMAE masking/throwing, attention extraction and crop/flip following."""

import numpy as np
import pytest
import torch
from mmpretrain.models.backbones.vision_transformer import TransformerEncoderLayer

from cxr_plugins.datasets.transforms.msmae_crop import MSMAERandomResizedCrop
from cxr_plugins.models.selfsup.attention_masking import (
    KEPT,
    MASKED,
    THROWN,
    attention_mask_throw,
    cls_patch_attention,
    crop_flip_patch_maps,
    normalize_head_attention,
)
from cxr_plugins.models.selfsup.msmae import MSMAEViT
from cxr_plugins.models.utils.token_embedding import gather_tokens


@pytest.mark.parametrize(
    'length,mask_ratio,throw_ratio',
    [(196, 0.45, 0.3), (16, 0.45, 0.3), (64, 0.75, 0.0), (49, 0.5, 0.25)],
)
def test_mask_throw_counts_and_partition(length, mask_ratio, throw_ratio):
    weights = torch.rand(5, length)
    split = attention_mask_throw(weights, mask_ratio, throw_ratio)
    num_masked = int(length * mask_ratio)
    num_thrown = int(length * (mask_ratio + throw_ratio)) - num_masked
    assert (split.num_masked, split.num_thrown) == (num_masked, num_thrown)
    # Every patch exactly once: the three sets partition the grid.
    assert torch.equal(
        split.ids_shuffle.sort(dim=1)[0], torch.arange(length).expand(5, -1)
    )
    assert ((split.codes == MASKED).sum(1) == num_masked).all()
    assert ((split.codes == THROWN).sum(1) == num_thrown).all()
    assert ((split.codes == KEPT).sum(1) == length - num_masked - num_thrown).all()
    assert (torch.gather(split.codes, 1, split.ids_masked) == MASKED).all()
    assert (torch.gather(split.codes, 1, split.ids_kept) == KEPT).all()


def test_mask_throw_follows_attention_and_is_deterministic():
    weights = torch.full((200, 16), 1e-3)
    weights[:, 3] = 1e3  # one dominant patch: almost always drawn first
    split = attention_mask_throw(
        weights, 0.45, 0.3, generator=torch.Generator().manual_seed(0)
    )
    assert (split.codes[:, 3] == MASKED).float().mean() > 0.99
    again = attention_mask_throw(
        weights, 0.45, 0.3, generator=torch.Generator().manual_seed(0)
    )
    other = attention_mask_throw(
        weights, 0.45, 0.3, generator=torch.Generator().manual_seed(1)
    )
    assert torch.equal(split.ids_shuffle, again.ids_shuffle)
    assert not torch.equal(split.ids_shuffle, other.ids_shuffle)


def test_mask_throw_rejects_bad_ratios():
    with pytest.raises(ValueError, match='mask_ratio'):
        attention_mask_throw(torch.ones(2, 16), 0.8, 0.3)


def test_gather_kept_tokens_passes_gradients_only_to_kept():
    tokens = torch.randn(2, 16, 8, requires_grad=True)
    split = attention_mask_throw(torch.rand(2, 16), 0.45, 0.3)
    gather_tokens(tokens, split.ids_kept).sum().backward()
    grad_rows = tokens.grad.abs().sum(-1) > 0
    assert torch.equal(grad_rows, split.codes == KEPT)


def test_cls_attention_matches_hand_computation():
    torch.manual_seed(0)
    block = TransformerEncoderLayer(embed_dims=12, num_heads=3, feedforward_channels=24)
    tokens = torch.randn(2, 1 + 6, 12)
    normed = block.ln1(tokens)
    got = cls_patch_attention(normed, block.attn.qkv, num_heads=3)
    weight, bias = block.attn.qkv.weight, block.attn.qkv.bias
    expected = torch.empty(2, 3, 6)
    for b in range(2):
        for h in range(3):
            rows = slice(h * 4, (h + 1) * 4)
            q = normed[b, 0] @ weight[rows].T + bias[rows]
            k = normed[b] @ weight[12:24][rows].T + bias[12:24][rows]
            scores = torch.softmax(k @ q / 2.0, dim=0)  # sqrt(head_dims=4)
            expected[b, h] = scores[1:]
    torch.testing.assert_close(got, expected)


def test_normalize_head_attention():
    attention = torch.tensor([[[0.1, 0.3, 0.5], [2.0, 1.0, 0.0]]])
    expected = torch.tensor([[(0 + 1) / 2, (0.5 + 0.5) / 2, (1 + 0) / 2]])
    torch.testing.assert_close(normalize_head_attention(attention), expected)


@pytest.mark.parametrize(
    'arch,img_size,patch_size,grid',
    [
        (
            dict(embed_dims=48, num_layers=2, num_heads=3, feedforward_channels=96),
            48,
            8,
            (6, 6),
        ),
        (
            dict(embed_dims=64, num_layers=1, num_heads=4, feedforward_channels=64),
            32,
            16,
            (2, 2),
        ),
    ],
)
def test_backbone_maps_any_heads_and_grid(arch, img_size, patch_size, grid):
    backbone = MSMAEViT(arch=arch, img_size=img_size, patch_size=patch_size)
    backbone.init_weights()
    maps = backbone.cls_attention_maps(torch.randn(2, 3, img_size, img_size))
    assert maps.shape == (2, *grid)
    assert maps.min() >= 0 and maps.max() <= 1 + 1e-6


def test_crop_flip_identity_and_quadrant():
    maps = torch.zeros(1, 4, 4)
    maps[0, 0, 0] = 1.0
    identity = crop_flip_patch_maps(
        maps, torch.tensor([[0.0, 0.0, 1.0, 1.0]]), torch.tensor([False]), (4, 4)
    )
    torch.testing.assert_close(identity, maps)
    # Top-left quarter, enlarged 2x: the hot cell covers the top-left 2x2.
    quarter = crop_flip_patch_maps(
        maps, torch.tensor([[0.0, 0.0, 0.5, 0.5]]), torch.tensor([False]), (4, 4)
    )
    expected = torch.zeros(1, 4, 4)
    expected[0, :2, :2] = 1.0
    torch.testing.assert_close(quarter, expected)
    flipped = crop_flip_patch_maps(
        maps, torch.tensor([[0.0, 0.0, 0.5, 0.5]]), torch.tensor([True]), (4, 4)
    )
    torch.testing.assert_close(flipped, expected.flip(-1))
    # A crop elsewhere does not see the hot cell (the released code's bug
    # always took the top-left cells).
    bottom_right = crop_flip_patch_maps(
        maps, torch.tensor([[0.5, 0.5, 1.0, 1.0]]), torch.tensor([False]), (4, 4)
    )
    assert bottom_right.abs().max() == 0


def _patch_means(img: np.ndarray, grid: int) -> torch.Tensor:
    tensor = torch.from_numpy(img[..., 0].astype(np.float32) / 255)[None, None]
    return torch.nn.functional.adaptive_avg_pool2d(tensor, grid)[0, 0]


@pytest.mark.parametrize('seed,flip_prob', [(0, 0.0), (1, 1.0), (2, 0.0), (3, 1.0)])
def test_map_follows_augmented_image(seed, flip_prob):
    """The stored map of an image whose content *is* the map, cropped and
    flipped by the recorded params, equals the patch means of the augmented
    image."""
    from mmpretrain.datasets.transforms import RandomFlip

    rng = np.random.default_rng(seed)
    grid = 8
    cells = (rng.random((grid, grid)) > 0.7).astype(np.float32)
    img = np.repeat(np.kron(cells, np.ones((32, 32)))[..., None] * 255, 3, 2)
    img = img.astype(np.uint8)
    np.random.seed(seed)
    crop = MSMAERandomResizedCrop(
        scale=128, crop_ratio_range=(0.2, 1.0), interpolation='nearest'
    )
    flip = RandomFlip(prob=flip_prob, direction='horizontal')
    results = flip(crop(dict(img=img.copy())))
    stored = _patch_means(img, grid)[None]
    aligned = crop_flip_patch_maps(
        stored,
        torch.from_numpy(results['crop_box'])[None],
        torch.tensor([bool(results['flip'])]),
        (grid, grid),
        samples_per_cell=32,
    )
    torch.testing.assert_close(
        aligned[0], _patch_means(results['img'], grid), atol=0.1, rtol=0
    )
    assert bool(results['flip']) == (flip_prob == 1.0)
