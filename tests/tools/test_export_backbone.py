"""tools/export_backbone.py: pretraining checkpoints -> loadable backbones."""

import pytest
import timm
import torch
import torchvision
from cxr_test_utils import TINY_VIT_ARCH, load_tool
from mmengine.registry import init_default_scope
from mmpretrain.models.backbones import DenseNet
from mmpretrain.registry import MODELS

import cxr_plugins  # noqa: F401
from cxr_plugins.models.backbones.cxr_vit import CXRViT


@pytest.fixture(scope='module')
def tool(repo_root):
    init_default_scope('mmpretrain')
    return load_tool('tools/export_backbone.py')


TINY_VIT = dict(TINY_VIT_ARCH, embed_dims=64, num_heads=4, feedforward_channels=128)


def save_pretraining(model, path):
    torch.save(dict(meta=dict(epoch=1), state_dict=model.state_dict()), path)


def test_mae_export_loads_into_cxr_vit_with_and_without_prefix(tool, tmp_path):
    mae = MODELS.build(
        dict(
            type='CXRMAE',
            backbone=dict(type='MAEViT', arch=TINY_VIT, img_size=32, patch_size=8),
            neck=dict(
                type='MAEPretrainDecoder',
                num_patches=16,
                patch_size=8,
                embed_dim=64,
                decoder_embed_dim=32,
                decoder_depth=1,
                decoder_num_heads=2,
            ),
            head=dict(
                type='MAEPretrainHead',
                patch_size=8,
                loss=dict(type='PixelReconstructionLoss', criterion='L2'),
            ),
        )
    )
    mae.init_weights()
    source = tmp_path / 'mae.pth'
    save_pretraining(mae, source)
    exported = tool.export_backbone(str(source), str(tmp_path / 'plain.pth'))
    assert not any(k.startswith(('neck', 'head', 'decoder')) for k in exported)
    tool.export_backbone(
        str(source), str(tmp_path / 'prefixed.pth'), key_prefix='backbone.'
    )
    for name, prefix in [
        ('plain.pth', None),
        ('prefixed.pth', 'backbone.'),
        ('mae.pth', 'backbone.'),
    ]:
        init_cfg = dict(type='Pretrained', checkpoint=str(tmp_path / name))
        if prefix:
            init_cfg['prefix'] = prefix
        vit = CXRViT(arch=TINY_VIT, img_size=32, patch_size=8, init_cfg=init_cfg)
        vit.init_weights()
        loaded = vit.state_dict()
        for key, value in mae.backbone.state_dict().items():
            if key in loaded:
                assert torch.equal(loaded[key], value), (name, key)
        assert torch.equal(
            loaded['layers.1.attn.qkv.weight'], mae.backbone.layers[1].attn.qkv.weight
        )


def test_cnn_mae_export_loads_into_every_densenet(tool, tmp_path):
    cnn_mae = MODELS.build(dict(type='CNNMAE', encoder_name='densenet121'))
    with torch.no_grad():  # non-default BN statistics so that loading shows
        for module in cnn_mae.modules():
            if isinstance(module, torch.nn.BatchNorm2d):
                module.running_mean.uniform_(-0.1, 0.1)
                module.weight.uniform_(0.5, 1.5)
    source = tmp_path / 'cnn_mae.pth'
    save_pretraining(cnn_mae, source)
    out = tmp_path / 'densenet.pth'
    exported = tool.export_backbone(str(source), str(out))
    assert all(key.startswith('features.') for key in exported)
    encoder = cnn_mae.backbone.encoder.eval()
    images = torch.randn(1, 3, 64, 64)
    with torch.no_grad():
        expected = torch.relu(encoder.features(images))

    reference_state = encoder.state_dict()
    backbone = MODELS.build(
        dict(
            type='CXRDenseNet',
            arch='121',
            init_cfg=dict(type='Pretrained', checkpoint=str(out)),
        )
    )
    backbone.init_weights()
    for key, value in reference_state.items():
        assert torch.equal(backbone.state_dict()[key], value), key

    saved = torch.load(out, weights_only=True)['state_dict']
    tv = torchvision.models.densenet121(weights=None)
    assert tv.load_state_dict(saved, strict=False).missing_keys == [
        'classifier.weight',
        'classifier.bias',
    ]
    timm_model = timm.create_model('densenet121', pretrained=False)
    assert set(timm_model.load_state_dict(saved, strict=False).missing_keys) == {
        'classifier.weight',
        'classifier.bias',
    }

    mm_out = tmp_path / 'densenet_mm.pth'
    tool.export_backbone(str(source), str(mm_out), densenet_layout='mmpretrain')
    mm_densenet = DenseNet(
        arch='121', init_cfg=dict(type='Pretrained', checkpoint=str(mm_out))
    )
    mm_densenet.init_weights()
    mm_densenet.eval()
    with torch.no_grad():
        assert torch.allclose(mm_densenet(images)[-1], expected, atol=1e-5)


def test_export_rejects_non_pretraining_checkpoint(tool, tmp_path):
    path = tmp_path / 'plain.pth'
    torch.save(dict(state_dict={'layers.0.weight': torch.zeros(1)}), path)
    with pytest.raises(KeyError, match='backbone'):
        tool.export_backbone(str(path), str(tmp_path / 'out.pth'))


@pytest.mark.parametrize('family', ['vit', 'evax'])
def test_timm_layout_loads_strictly_in_plain_timm(tool, tmp_path, family):
    """--layout timm + safetensors -> timm.create_model + strict load, same features."""
    import ast

    from safetensors import safe_open
    from safetensors.torch import load_file

    from cxr_plugins.models.backbones.eva_x import EVAX

    torch.manual_seed(0)
    if family == 'vit':
        arch = dict(embed_dims=64, num_layers=2, num_heads=1, feedforward_channels=128)
        backbone = CXRViT(arch=arch, img_size=32, patch_size=8)
    else:
        backbone = EVAX(arch='demo-base', img_size=32, patch_size=8)
    with torch.no_grad():
        for param in backbone.parameters():
            param.copy_(torch.randn_like(param) * 0.5)
    backbone.eval()
    source = tmp_path / 'trained.pth'
    torch.save(
        {'state_dict': {f'backbone.{k}': v for k, v in backbone.state_dict().items()}},
        source,
    )
    out = tmp_path / 'backbone.safetensors'
    num_heads = ['--num-heads', '2'] if family == 'evax' else []
    assert tool.main([str(source), str(out), '--layout', 'timm', *num_heads]) == 0
    with safe_open(str(out), 'pt') as handle:
        create_args = ast.literal_eval(handle.metadata()['timm_create_model'])
    model_name = create_args.pop('model_name')
    assert model_name.startswith('vit_' if family == 'vit' else 'eva02_')
    model = timm.create_model(model_name, pretrained=False, **create_args).eval()
    model.load_state_dict(load_file(str(out)), strict=True)
    images = torch.randn(2, 3, 32, 32)
    with torch.no_grad():
        expected = backbone(images)[0]
        actual = model.forward_head(model.forward_features(images), pre_logits=True)
    torch.testing.assert_close(actual, expected, rtol=0, atol=1e-5)
