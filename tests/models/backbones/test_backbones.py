"""Backbones: EVA-X structure, pos-embed resize, CNN key compatibility."""

import pytest
import torch
import torchvision
from mmpretrain.registry import MODELS
from timm.layers import GluMlp, SwiGLU
from timm.layers.pos_embed_sincos import RotaryEmbeddingCat

import cxr_plugins  # noqa: F401  (registration)
from cxr_plugins.models.backbones import EVAX, CXRDenseNet

pytestmark = pytest.mark.usefixtures('mmpretrain_scope')

BASE_LIKE = dict(embed_dim=64, depth=2, num_heads=2, qkv_fused=False, scale_mlp=True)


def test_evax_forward_and_out_types():
    image = torch.rand(2, 3, 32, 32)
    pooled = EVAX(arch='demo', img_size=32, patch_size=8)(image)
    assert len(pooled) == 1 and pooled[0].shape == (2, 64)
    cls = EVAX(arch='demo', img_size=32, patch_size=8, out_type='cls_token')(image)
    assert cls[0].shape == (2, 64)
    maps = EVAX(
        arch='demo', img_size=32, patch_size=8, out_type='featmap', out_indices=(0, 1)
    )(image)
    assert [m.shape for m in maps] == [(2, 64, 4, 4)] * 2


def test_evax_small_structure_matches_seed():
    model = EVAX(arch='small', img_size=32, patch_size=16)
    block = model.blocks[0]
    assert isinstance(model.rope, RotaryEmbeddingCat)
    assert isinstance(block.mlp, GluMlp)  # fused SwiGLU (w12 -> fc1)
    assert block.mlp.fc1.out_features == 2 * int(384 * 4 * 2 / 3)
    # q/v bias, k bias fixed to zero (not a parameter)
    names = {n for n, _ in block.attn.named_parameters()}
    assert {'q_bias', 'v_bias', 'qkv.weight'} <= names and 'k_bias' not in names
    assert isinstance(model.fc_norm, torch.nn.LayerNorm)
    assert sum(p.numel() for p in model.parameters()) == pytest.approx(21.6e6, rel=0.01)


def test_evax_base_has_sub_ln_and_separate_qkv():
    model = EVAX(arch=BASE_LIKE, img_size=32, patch_size=8)
    block = model.blocks[0]
    assert isinstance(block.mlp, SwiGLU)
    assert isinstance(block.mlp.norm, torch.nn.LayerNorm)  # ffn_ln
    keys = set(model.state_dict())
    for key in (
        'attn.q_proj.weight',
        'attn.q_proj.bias',
        'attn.k_proj.weight',
        'attn.v_proj.bias',
        'mlp.fc1_g.weight',
        'mlp.fc1_x.weight',
        'mlp.norm.weight',
        'mlp.fc2.weight',
    ):
        assert f'blocks.0.{key}' in keys
    assert 'blocks.0.attn.k_proj.bias' not in keys
    arch = EVAX._arch_settings('base')
    assert arch['qkv_fused'] is False and arch['scale_mlp'] is True


def test_evax_rope_changes_output_with_token_order():
    """RoPE makes attention position dependent even without pos_embed."""
    torch.manual_seed(0)
    model = EVAX(arch='demo', img_size=32, patch_size=8).eval()
    with torch.no_grad():
        model.pos_embed.zero_()
        image = torch.rand(1, 3, 32, 32)
        # Reverse the order of the 8x8 patch columns, keeping each patch intact.
        flipped = torch.cat(list(reversed(image.split(8, dim=3))), dim=3)
        out = model(image)[0]
        out_flipped = model(flipped)[0]
        head_dim = 32  # sin and cos halves of timm's concatenated embedding
        model.rope.get_embed = lambda shape: torch.cat(  # identity rotation
            [
                torch.zeros(shape[0] * shape[1], head_dim),
                torch.ones(shape[0] * shape[1], head_dim),
            ],
            dim=-1,
        )
        plain = model(image)[0]
        plain_flipped = model(flipped)[0]
    # Without any position signal, mean pooling ignores the patch order.
    torch.testing.assert_close(plain, plain_flipped, rtol=1e-4, atol=1e-5)
    assert not torch.allclose(out, out_flipped, atol=1e-4)


def test_evax_resizes_pos_embed_on_load_and_runs_other_sizes():
    source = EVAX(arch='demo', img_size=32, patch_size=8)
    target = EVAX(arch='demo', img_size=64, patch_size=8)
    target.load_state_dict(source.state_dict())
    assert target.pos_embed.shape == (1, 1 + 64, 64)
    torch.testing.assert_close(target.cls_token, source.cls_token)
    assert source(torch.rand(1, 3, 48, 48))[0].shape == (1, 64)


def test_evax_layer_depth_rule():
    model = EVAX(arch='demo', img_size=32, patch_size=8)
    assert model.get_layer_depth('backbone.cls_token', 'backbone.') == (0, 4)
    depth = model.get_layer_depth
    assert depth('backbone.patch_embed.proj.weight', 'backbone.') == (0, 4)
    assert depth('backbone.blocks.1.attn.qkv.weight', 'backbone.') == (2, 4)
    assert model.get_layer_depth('backbone.fc_norm.weight', 'backbone.') == (3, 4)
    assert model.get_layer_depth('head.fc.weight', 'backbone.') == (3, 4)


def test_evax_rejects_bad_arch():
    with pytest.raises(KeyError, match='unknown arch'):
        EVAX(arch='huge')
    with pytest.raises(KeyError, match='missing'):
        EVAX(arch=dict(embed_dim=64))


def test_densenet_keys_match_torchvision_and_load():
    reference = torchvision.models.densenet121()
    model = CXRDenseNet('121')
    features = {
        k: v for k, v in reference.state_dict().items() if k.startswith('features.')
    }
    assert set(model.state_dict()) == set(features)
    model.load_state_dict(features)
    reference.eval()
    model.eval()
    image = torch.rand(1, 3, 64, 64)
    with torch.no_grad():
        expected = torch.flatten(
            torch.nn.functional.adaptive_avg_pool2d(
                torch.relu(reference.features(image)), 1
            ),
            1,
        )
        got = model(image)[0].mean(dim=(2, 3))
    torch.testing.assert_close(got, expected)


def test_resnet50_keys_match_torchvision():
    model = MODELS.build(dict(type='ResNet', depth=50, out_indices=(3,)))
    reference = torchvision.models.resnet50().state_dict()
    expected = {k for k in reference if not k.startswith('fc.')}
    assert set(model.state_dict()) == expected


def test_timm_backbone_by_name():
    model = MODELS.build(
        dict(type='TIMMBackbone', model_name='resnet10t', pretrained=False)
    )
    model.eval()
    out = model(torch.rand(2, 3, 64, 64))
    assert out[-1].shape[:2] == (2, 512)


def test_evax_init_cfg_pretrained_loads_with_prefix_and_resize(tmp_path):
    source = EVAX(arch='demo', img_size=32, patch_size=8)
    checkpoint = tmp_path / 'evax.pth'
    torch.save(
        {'state_dict': {f'backbone.{k}': v for k, v in source.state_dict().items()}},
        checkpoint,
    )
    target = MODELS.build(
        dict(
            type='EVAX',
            arch='demo',
            img_size=48,
            patch_size=8,
            init_cfg=dict(
                type='Pretrained', checkpoint=str(checkpoint), prefix='backbone.'
            ),
        )
    )
    target.init_weights()
    torch.testing.assert_close(
        target.blocks[1].mlp.fc2.weight, source.blocks[1].mlp.fc2.weight
    )
    assert target.pos_embed.shape == (1, 1 + 36, 64)
