"""Every seed checkpoint layout converts with no key silently lost, loads
strictly, and computes what the seed's model computes.

Each layout is built with every key the seed writes (encoder, final norm,
fc_norm, head, decoder, mask token, report branch, RoPE buffers, MoCo key
encoder / queue, BYOL target network, SwAV prototypes, smp decoder) at tiny
sizes, with random values. The reference features come from the model the
seed itself builds: timm ``VisionTransformer`` (Medical MAE / MRM / MSMAE
``models_vit``), timm ``Eva`` (EVA-X's ``eva_x.py``; the base layout with
EVA-X's fine-tuning RoPE grid 16), torchvision DenseNet / ResNet, and, for
HuggingFace ViTMAE (no ``transformers`` here), a plain-torch forward of the HF
layer written from its key names. Tolerance: max abs difference <= 1e-5 on
features of magnitude ~1 (float32; the backbones differ only in kernel order).

Run ``python tests/convert/test_seed_parity.py`` for the parity table.
"""

from __future__ import annotations

import math

import pytest
import torch
import torch.nn.functional as F

from cxr_plugins.convert import convert_checkpoint
from cxr_plugins.engine.checkpoint import load_state_dict_strictly

TOLERANCE = 1e-5
IMAGES = torch.Generator().manual_seed(7)


def _randomise(
    module: torch.nn.Module, seed: int, scale: float = 0.5
) -> torch.nn.Module:
    """Random values everywhere (distinguishable from any fresh init)."""
    generator = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for name, tensor in module.state_dict().items():
            if name.endswith('weight') and tensor.ndim == 4:  # keep convs stable
                scale_here = math.sqrt(2 / tensor[0].numel())
            else:
                scale_here = scale
            if tensor.is_floating_point() and not name.endswith('running_var'):
                tensor.copy_(
                    torch.randn(tensor.shape, generator=generator) * scale_here
                )
            elif name.endswith('running_var'):
                tensor.copy_(torch.rand(tensor.shape, generator=generator) + 0.5)
    return module.eval()


def _images(size: int) -> torch.Tensor:
    return torch.randn(2, 3, size, size, generator=IMAGES)


def _load_converted(converted: dict, target) -> torch.nn.Module:
    """Build the target backbone and load the converted file strictly."""
    from mmengine.registry import DefaultScope
    from mmpretrain.registry import MODELS

    with DefaultScope.overwrite_default_scope('mmpretrain'):
        backbone = MODELS.build(target.backbone_cfg)
    state = {
        k[len('backbone.') :]: v
        for k, v in converted.items()
        if k.startswith('backbone.')
    }
    load_state_dict_strictly(
        backbone, state, 'converted', allowed_missing=['ln2.*', 'fc_norm.*']
    )
    backbone.eval()
    return backbone


def _check_partition(source: dict, report, fused: int = 0) -> None:
    """Every source key is mapped, written to the head or dropped by a named rule.

    ``fused``: source keys that became one target key with others (HF q/k/v).
    """
    accounted = len(report.mapped) + len(report.head) + len(report.dropped) + fused
    assert accounted == len(source), (accounted, len(source))
    assert not report.errors


RESULTS: list[tuple[str, int, int, float]] = []


def _record(layout: str, report, actual: torch.Tensor, expected: torch.Tensor) -> float:
    diff = (actual - expected).abs().max().item()
    RESULTS.append(
        (layout, len(report.mapped) + len(report.head), len(report.dropped), diff)
    )
    assert diff <= TOLERANCE, (layout, diff)
    return diff


# ---------------------------------------------------------------- timm ViT
def timm_vit(seed: int, num_classes: int = 0, fc_norm: bool = True):
    from timm.models.vision_transformer import VisionTransformer

    model = VisionTransformer(
        img_size=32,
        patch_size=8,
        embed_dim=64,
        depth=2,
        num_heads=1,  # head dim 64 as in every seed (what the converter assumes)
        global_pool='avg',
        fc_norm=fc_norm,
        num_classes=num_classes,
    )
    return _randomise(model, seed)


def mae_decoder_keys(embed_dim: int = 64, decoder_dim: int = 32) -> dict:
    """MAE decoder + mask token (models_mae), one block: every key it writes."""
    from timm.models.vision_transformer import Block

    block = _randomise(Block(decoder_dim, 2, qkv_bias=True), 11)
    keys = {f'decoder_blocks.0.{k}': v for k, v in block.state_dict().items()}
    keys.update(
        mask_token=torch.randn(1, 1, decoder_dim),
        decoder_pos_embed=torch.randn(1, 17, decoder_dim),
        **{
            'decoder_embed.weight': torch.randn(decoder_dim, embed_dim),
            'decoder_embed.bias': torch.randn(decoder_dim),
            'decoder_norm.weight': torch.randn(decoder_dim),
            'decoder_norm.bias': torch.randn(decoder_dim),
            'decoder_pred.weight': torch.randn(8 * 8 * 3, decoder_dim),
            'decoder_pred.bias': torch.randn(8 * 8 * 3),
        },
    )
    return keys


def pretraining_encoder(seed: int) -> tuple[dict, torch.nn.Module]:
    """models_mae encoder keys (final ``norm``, no fc_norm) and the seed's
    fine-tuning model on them (global pool + fresh fc_norm)."""
    encoder = timm_vit(seed, fc_norm=False)  # holds a final norm
    state = {
        k: v for k, v in encoder.state_dict().items() if not k.startswith('fc_norm')
    }
    reference = timm_vit(seed)
    reference.load_state_dict(
        {k: v for k, v in state.items() if not k.startswith('norm.')}, strict=False
    )
    with torch.no_grad():  # the seeds' fine-tuning starts fc_norm fresh
        reference.fc_norm.weight.fill_(1.0)
        reference.fc_norm.bias.zero_()
    return state, reference


def _vit_features(converted, target, images):
    return _load_converted(converted, target)(images)[0]


@pytest.mark.parametrize('layout', ['medical_mae', 'mrm', 'msmae'])
def test_vit_pretraining_layouts(layout):
    state, reference = pretraining_encoder(1)
    state.update(mae_decoder_keys())
    if layout == 'mrm':
        state.update(
            {
                'bert_encoder.embeddings.word_embeddings.weight': torch.randn(30, 16),
                'bert_encoder.encoder.layer.0.attention.self.query.weight': torch.randn(
                    16, 16
                ),
                'bert_mlm_head.decoder.weight': torch.randn(30, 16),
                'bert_embed.weight': torch.randn(16, 64),
            }
        )
    if layout == 'msmae':  # pretraining classifier on the cls token
        state.update({'head.weight': torch.randn(3, 64), 'head.bias': torch.randn(3)})
    converted, report, target = convert_checkpoint(
        {'model': state}, num_classes=3 if layout == 'msmae' else None
    )
    assert report.source_format == layout
    _check_partition(state, report)
    assert set(report.fresh) == {'ln2.weight', 'ln2.bias'}
    assert 'norm.weight' in report.dropped
    assert not any(key.startswith('head.') for key in converted)  # MSMAE: deleted
    images = _images(32)
    with torch.no_grad():
        _record(
            f'{layout} pretrain',
            report,
            _vit_features(converted, target, images),
            reference.forward_head(reference.forward_features(images), pre_logits=True),
        )


@pytest.mark.parametrize('layout', ['medical_mae', 'msmae'])
def test_vit_fine_tuned_layouts_keep_fc_norm_and_head(layout):
    """models_vit fine-tuned file: fc_norm + head, no final norm."""
    num_classes = 14 if layout == 'medical_mae' else 2
    reference = timm_vit(2, num_classes=num_classes)
    state = dict(reference.state_dict())
    assert not any(key.startswith('norm.') for key in state)
    converted, report, target = convert_checkpoint(
        {'model': state, 'epoch': 74}, fmt=layout, num_classes=num_classes
    )
    _check_partition(state, report)
    assert not report.fresh and len(report.head) == 2
    images = _images(32)
    features = _vit_features(converted, target, images)
    logits = F.linear(features, converted['head.fc.weight'], converted['head.fc.bias'])
    with torch.no_grad():
        _record(f'{layout} fine-tuned (logits)', report, logits, reference(images))


def test_hf_vitmae_layout():
    """``ViTMAEForPreTraining`` names; reference: the HF layer written out."""
    from tests.convert.test_convert_checkpoint import hf_vitmae_state

    state = hf_vitmae_state(
        hidden=64, layers=2, intermediate=128, num_patches=16, patch=8
    )
    converted, report, target = convert_checkpoint(
        state,
        arch=dict(embed_dims=64, num_layers=2, num_heads=1, feedforward_channels=128),
    )
    _check_partition(state, report, fused=2 * 2 * 2)  # q,k,v -> qkv: w and b
    images = _images(32)

    def layer_norm(x, name, eps=1e-12):  # HF ViTMAE layer_norm_eps default
        return F.layer_norm(
            x, x.shape[-1:], state[name + '.weight'], state[name + '.bias'], eps
        )

    def linear(x, name):
        return F.linear(x, state[name + '.weight'], state[name + '.bias'])

    prefix = 'vit.embeddings.'
    tokens = (
        F.conv2d(
            images,
            state[prefix + 'patch_embeddings.projection.weight'],
            state[prefix + 'patch_embeddings.projection.bias'],
            stride=8,
        )
        .flatten(2)
        .transpose(1, 2)
    )
    pos = state[prefix + 'position_embeddings']
    cls_token = (state[prefix + 'cls_token'] + pos[:, :1]).expand(2, -1, -1)
    tokens = torch.cat([cls_token, tokens + pos[:, 1:]], dim=1)
    for n in range(2):
        layer = f'vit.encoder.layer.{n}.'
        x = layer_norm(tokens, layer + 'layernorm_before')
        q, k, v = (
            linear(x, layer + f'attention.attention.{part}')
            .reshape(2, -1, 1, 64)
            .transpose(1, 2)
            for part in ('query', 'key', 'value')
        )
        attention = (q @ k.transpose(-2, -1) / math.sqrt(64)).softmax(-1) @ v
        tokens = tokens + linear(
            attention.transpose(1, 2).reshape(2, -1, 64),
            layer + 'attention.output.dense',
        )
        x = layer_norm(tokens, layer + 'layernorm_after')
        tokens = tokens + linear(
            F.gelu(linear(x, layer + 'intermediate.dense')), layer + 'output.dense'
        )
    expected = F.layer_norm(tokens[:, 1:].mean(1), (64,), eps=1e-6)  # fresh fc_norm
    with torch.no_grad():
        actual = _vit_features(converted, target, images)
    # HF eps 1e-12 inside the blocks vs ours 1e-6: 1e-6 relative at most.
    diff = (actual - expected).abs().max().item()
    RESULTS.append(
        ('hf_vitmae pretrain', len(report.mapped), len(report.dropped), diff)
    )
    assert diff <= 1e-4


# ---------------------------------------------------------------- EVA-X
#: timm Eva name -> EVA-X seed name (models_eva.py / EVA-02 checkpoints).
TIMM_TO_EVAX = (
    ('mlp.fc1_g.', 'mlp.w1.'),
    ('mlp.fc1_x.', 'mlp.w2.'),
    ('mlp.fc1.', 'mlp.w12.'),
    ('mlp.fc2.', 'mlp.w3.'),
    ('mlp.norm.', 'mlp.ffn_ln.'),
    ('attn.q_proj.bias', 'attn.q_bias'),
    ('attn.v_proj.bias', 'attn.v_bias'),
)


def timm_eva(base: bool, seed: int):
    from timm.models.eva import Eva

    extra = dict(qkv_fused=False, scale_mlp=True) if base else {}
    model = Eva(
        img_size=32,
        patch_size=8,
        embed_dim=64,
        depth=2,
        num_heads=1,
        mlp_ratio=4 * 2 / 3,
        swiglu_mlp=True,
        use_rot_pos_emb=True,
        ref_feat_shape=(16, 16) if base else (14, 14),
        num_classes=5,
        **extra,
    )
    return _randomise(model, seed)


def evax_seed_layout(model, mim: bool) -> dict:
    """The seed's key names for a timm ``Eva``'s weights (+ MIM-only keys)."""
    state = {}
    for key, value in model.state_dict().items():
        for ours, theirs in TIMM_TO_EVAX:
            key = key.replace(ours, theirs)
        state[key] = value
    grid = torch.randn(16, 16)
    state['rope.freqs_cos'], state['rope.freqs_sin'] = grid, grid
    for n in range(2):  # each Attention holds the shared RoPE module
        state[f'blocks.{n}.attn.rope.freqs_cos'] = grid
        state[f'blocks.{n}.attn.rope.freqs_sin'] = grid
    if mim:
        for key in ('fc_norm.weight', 'fc_norm.bias', 'head.weight', 'head.bias'):
            del state[key]
        state.update(
            {
                'norm.weight': torch.randn(64),
                'norm.bias': torch.randn(64),
                'mask_token': torch.randn(1, 1, 64),
                'lm_head.weight': torch.randn(32, 64),
                'lm_head.bias': torch.randn(32),
            }
        )
    return state


@pytest.mark.parametrize('base', [False, True], ids=['ti-s-fused', 'b-separate-qkv'])
@pytest.mark.parametrize('mim', [True, False], ids=['mim', 'fine-tuned'])
def test_evax_layouts(base, mim):
    reference = timm_eva(base, 3)
    if mim:
        with torch.no_grad():
            reference.fc_norm.weight.fill_(1.0)
            reference.fc_norm.bias.zero_()
    state = evax_seed_layout(reference, mim)
    converted, report, target = convert_checkpoint(
        {'module': state}, num_classes=None if mim else 5
    )
    _check_partition(state, report)
    if base:  # the regression: 2 biases per block reach q_proj / v_proj
        for n in range(2):
            for part in 'qv':
                torch.testing.assert_close(
                    converted[f'backbone.blocks.{n}.attn.{part}_proj.bias'],
                    state[f'blocks.{n}.attn.{part}_bias'],
                )
    images = _images(32)
    backbone = _load_converted(converted, target)
    with torch.no_grad():
        expected = reference.forward_head(
            reference.forward_features(images), pre_logits=True
        )
        diff = _record(
            f'evax {"B" if base else "Ti/S"} {"MIM" if mim else "fine-tuned"}',
            report,
            backbone(images)[0],
            expected,
        )
        if base:  # without the biases the features are far off
            for block in backbone.blocks:
                block.attn.q_proj.bias.zero_()
                block.attn.v_proj.bias.zero_()
            assert (backbone(images)[0] - expected).abs().max() > 1000 * max(diff, 1e-7)


def test_evax_truly_unknown_key_fails():
    from cxr_plugins.convert import ConversionError

    state = evax_seed_layout(timm_eva(False, 4), mim=True)
    state['blocks.0.attn.inner_attn_ln.weight'] = torch.randn(64)
    with pytest.raises(ConversionError, match=r'inner_attn_ln'):
        convert_checkpoint({'module': state})


# ---------------------------------------------------------------- CNNs
@pytest.fixture(scope='module')
def densenet():
    from torchvision.models import densenet121

    return _randomise(densenet121(weights=None), 5)


def test_densenet_cnn_mae_layout(densenet):
    """Medical MAE CNN-MAE: smp Unet(densenet121) saved under ``model``."""
    state = {
        f'model.encoder.{k}': v
        for k, v in densenet.state_dict().items()
        if not k.startswith('classifier')
    }
    state.update(
        {
            'model.decoder.blocks.0.conv1.0.weight': torch.randn(4, 4, 3, 3),
            'model.decoder.blocks.0.conv1.1.weight': torch.randn(4),
            'model.segmentation_head.0.weight': torch.randn(3, 16, 3, 3),
            'model.segmentation_head.0.bias': torch.randn(3),
        }
    )
    converted, report, target = convert_checkpoint({'model': state}, fmt='densenet')
    _check_partition(state, report)
    images = _images(64)
    with torch.no_grad():
        _record(
            'densenet121 CNN-MAE',
            report,
            _load_converted(converted, target)(images)[0],
            F.relu(densenet.features(images)),
        )


@pytest.fixture(scope='module')
def resnet():
    from torchvision.models import resnet50

    return _randomise(resnet50(weights=None), 6)


@pytest.mark.parametrize('fmt', ['moco', 'byol', 'swav'])
def test_selfsup_resnet50_layouts(resnet, fmt):
    from tests.convert.test_convert_checkpoint import (
        byol_layout,
        moco_layout,
        swav_layout,
    )

    trunk = resnet.state_dict()
    checkpoint = dict(moco=moco_layout, byol=byol_layout, swav=swav_layout)[fmt](trunk)
    converted, report, target = convert_checkpoint(checkpoint)
    source, _ = __import__('cxr_plugins.convert', fromlist=['x']).unwrap_checkpoint(
        checkpoint
    )
    _check_partition(source, report)
    images = _images(64)
    body = torch.nn.Sequential(*list(resnet.children())[:-2])
    with torch.no_grad():
        _record(
            f'resnet50 {fmt}',
            report,
            _load_converted(converted, target)(images)[-1],
            body(images),
        )


if __name__ == '__main__':
    import sys

    pytest.main([__file__, '-q', '-p', 'no:cacheprovider'])
    collected = next(
        module.RESULTS
        for name, module in sys.modules.items()
        if name.endswith('test_seed_parity') and name != '__main__'
    )
    print('| layout | tensors mapped | dropped by rule | max abs diff |')
    print('|---|---|---|---|')
    for layout, mapped, dropped, diff in collected:
        print(f'| {layout} | {mapped} | {dropped} | {diff:.1e} |')
