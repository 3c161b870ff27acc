"""The one ViT token-input path against mmpretrain's own forwards, bit for bit."""

import pytest
import torch
from cxr_test_utils import TINY_VIT_ARCH
from mmpretrain.models.selfsup import MAEViT
from torch import nn

from cxr_plugins.models.backbones.cxr_vit import CXRViT
from cxr_plugins.models.selfsup.attention_masking import MaskThrowSplit
from cxr_plugins.models.selfsup.evax_mim import vit_patch_tokens_with_mask_tokens
from cxr_plugins.models.selfsup.msmae import MSMAEViT, vit_cls_attention_maps
from cxr_plugins.models.utils import embed_vit_tokens


def _kept_only(ids_kept: torch.Tensor) -> MaskThrowSplit:
    """A split that keeps ``ids_kept`` (the other patches count as masked)."""
    batch, kept = ids_kept.shape
    rest = torch.stack(
        [torch.tensor([i for i in range(16) if i not in row]) for row in ids_kept]
    )
    ids_shuffle = torch.cat((rest, ids_kept), dim=1)
    codes = torch.ones(batch, 16, dtype=torch.long).scatter(1, ids_kept, 0)
    return MaskThrowSplit(ids_shuffle, codes, num_masked=16 - kept, num_thrown=0)


def _vit() -> CXRViT:
    torch.manual_seed(0)
    vit = CXRViT(
        arch=TINY_VIT_ARCH, img_size=32, patch_size=8, out_type='raw', final_norm=True
    )
    nn.init.normal_(vit.pos_embed)  # mmpretrain starts it at zeros
    vit.eval()
    return vit


def _blocks(vit, tokens: torch.Tensor) -> torch.Tensor:
    for layer in vit.layers:
        tokens = layer(tokens)
    return vit.ln1(tokens)


@pytest.mark.parametrize('size', [32, 48])
def test_full_image_path_equals_vision_transformer_forward(size):
    """48 px on a 32 px ViT also exercises the position-embedding resize."""
    vit = _vit()
    images = torch.randn(2, 3, size, size)
    tokens, grid = embed_vit_tokens(vit, images)
    assert grid == (size // 8, size // 8)
    with torch.no_grad():
        assert torch.equal(_blocks(vit, tokens), vit(images)[0])


def test_kept_patches_equal_mae_vit_random_masking():
    """MSMAE's kept-patch encoder is MAEViT's masked forward for the same ids."""
    torch.manual_seed(0)
    mae = MAEViT(arch=TINY_VIT_ARCH, img_size=32, patch_size=8, mask_ratio=0.5)
    nn.init.normal_(mae.pos_embed)
    mae.eval()
    encoder = MSMAEViT(arch=TINY_VIT_ARCH, img_size=32, patch_size=8)
    encoder.load_state_dict(mae.state_dict())
    encoder.eval()
    images = torch.randn(2, 3, 32, 32)
    torch.manual_seed(1)
    with torch.no_grad():
        latent, _, ids_restore = mae(images)
    ids_kept = torch.argsort(ids_restore, dim=1)[:, : latent.shape[1] - 1]
    with torch.no_grad():
        assert torch.equal(encoder(images, _kept_only(ids_kept)), latent)


def test_every_user_applies_drop_after_pos():
    """MSMAE's kept-patch path used to skip ``drop_after_pos``."""
    vit = _vit()
    calls = []
    vit.drop_after_pos.register_forward_hook(lambda *_: calls.append(1))
    images = torch.randn(2, 3, 32, 32)
    vit_cls_attention_maps(vit, images)
    vit_patch_tokens_with_mask_tokens(
        vit, images, torch.zeros(2, 16, dtype=torch.bool), torch.zeros(1, 1, 32)
    )
    assert len(calls) == 2
    encoder = MSMAEViT(arch=TINY_VIT_ARCH, img_size=32, patch_size=8)
    encoder.drop_after_pos.register_forward_hook(lambda *_: calls.append(1))
    encoder(images, _kept_only(torch.tensor([[0, 5], [3, 1]])))
    assert len(calls) == 3


def test_mask_tokens_replace_masked_patches_before_the_position_embedding():
    vit = _vit()
    images = torch.randn(2, 3, 32, 32)
    mask = torch.zeros(2, 16, dtype=torch.bool)
    mask[0, 3] = True
    token = torch.randn(1, 1, 32)
    masked, _ = embed_vit_tokens(vit, images, mask=mask, mask_token=token)
    plain, _ = embed_vit_tokens(vit, images)
    assert torch.equal(masked[0, 4], token[0, 0] + vit.pos_embed[0, 4])
    assert torch.equal(masked[1], plain[1])
    with pytest.raises(ValueError, match='together'):
        embed_vit_tokens(vit, images, mask=mask)
