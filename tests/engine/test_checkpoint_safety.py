"""External weights load without running code, and never silently mismatched.

Provokes: a pickle whose ``__reduce__`` runs ``os.system`` (must be refused,
marker file never created, through every mmengine loading path); a legacy
pickle holding ``argparse.Namespace`` (refused, then loads after the tools'
``--unsafe-load`` flag); ``.safetensors`` weights (load); checkpoints of the
wrong architecture (a missing layer, a different width) through ``init_cfg``
(``CXRPretrained`` must raise listing the keys, where mmengine's ``Pretrained``
loads ``strict=False`` and carries on).
"""

import argparse
import os
from pathlib import Path

import pytest
import torch
from cxr_test_utils import REPO_ROOT, TINY_VIT_ARCH
from mmengine.runner.checkpoint import CheckpointLoader, _load_checkpoint
from safetensors.torch import save_file

from cxr_plugins import compat
from cxr_plugins.compat import UnsafeCheckpointError
from cxr_plugins.engine.checkpoint import CheckpointMismatchError, CXRPretrained
from cxr_plugins.models.backbones.cxr_vit import CXRViT

TOOLS_DIR = REPO_ROOT / 'tools'


class _RunsShellCommand:
    """Unpickling this runs a shell command (what an attacker would ship)."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self):
        return os.system, (f'touch {self.marker}',)


def _tiny_vit(embed_dims: int = 32, num_layers: int = 1) -> CXRViT:
    return CXRViT(
        arch=dict(
            embed_dims=embed_dims,
            num_layers=num_layers,
            num_heads=2,
            feedforward_channels=64,
        ),
        img_size=32,
        patch_size=8,
    )


@pytest.fixture
def no_unsafe_opt_in(monkeypatch):
    monkeypatch.delenv(compat.UNSAFE_LOAD_ENV, raising=False)
    compat.allow_unsafe_load(False)
    yield
    compat.allow_unsafe_load(False)


def test_code_executing_pickle_is_refused_everywhere(tmp_path, no_unsafe_opt_in):
    marker = tmp_path / 'pwned'
    malicious = tmp_path / 'weights.pth'
    torch.save(
        {'state_dict': {'w': torch.ones(1)}, 'x': _RunsShellCommand(marker)}, malicious
    )

    loaders = [
        lambda: _load_checkpoint(str(malicious)),
        lambda: CheckpointLoader.load_checkpoint(str(malicious)),
        lambda: CXRPretrained(str(malicious))(_tiny_vit()),
    ]
    for load in loaders:
        with pytest.raises(UnsafeCheckpointError, match='--unsafe-load') as error:
            load()
        assert str(malicious) in str(error.value)
    assert not marker.exists()


def test_legacy_namespace_pickle_needs_unsafe_load_flag(tmp_path, no_unsafe_opt_in):
    legacy = tmp_path / 'legacy.pth'
    torch.save(
        {'model': {'w': torch.ones(2)}, 'args': argparse.Namespace(lr=0.1)}, legacy
    )
    with pytest.raises(UnsafeCheckpointError, match='--unsafe-load'):
        _load_checkpoint(str(legacy))

    from cxr_plugins.apis.launch import add_common_args, load_config

    config = tmp_path / 'empty.py'
    config.write_text('model = dict()\n')
    parser = argparse.ArgumentParser()
    parser.add_argument('config')
    add_common_args(parser)
    load_config(
        parser.parse_args(
            [str(config), '--unsafe-load', '--work-dir', str(tmp_path / 'work')]
        )
    )

    loaded = _load_checkpoint(str(legacy))
    assert loaded['args'].lr == 0.1


def test_safetensors_weights_initialise_the_backbone(tmp_path):
    source = _tiny_vit()
    weights = tmp_path / 'vit.safetensors'
    save_file(
        {
            f'backbone.{key}': value.contiguous()
            for key, value in source.state_dict().items()
        },
        str(weights),
    )

    target = _tiny_vit()
    CXRPretrained(str(weights), prefix='backbone.')(target)
    for key, value in source.state_dict().items():
        torch.testing.assert_close(target.state_dict()[key], value)


def test_wrong_architecture_is_an_error_listing_the_keys(tmp_path):
    one_layer = tmp_path / 'one_layer.pth'
    torch.save({'state_dict': _tiny_vit(num_layers=1).state_dict()}, one_layer)
    with pytest.raises(CheckpointMismatchError) as error:
        CXRPretrained(str(one_layer))(_tiny_vit(num_layers=2))
    message = str(error.value)
    assert 'missing in checkpoint' in message
    assert 'layers.1.attn.qkv.weight' in message
    assert str(one_layer) in message

    wider = tmp_path / 'wider.pth'
    torch.save({'state_dict': _tiny_vit(embed_dims=48).state_dict()}, wider)
    with pytest.raises(CheckpointMismatchError, match='size mismatch for cls_token'):
        CXRPretrained(str(wider))(_tiny_vit(embed_dims=32))


def test_allowed_missing_keys_load_the_rest_strictly(tmp_path):
    source = _tiny_vit(num_layers=1)
    checkpoint = tmp_path / 'backbone.pth'
    torch.save({'state_dict': source.state_dict()}, checkpoint)

    target = _tiny_vit(num_layers=2)
    CXRPretrained(str(checkpoint), allowed_missing=['layers.1.*'])(target)
    torch.testing.assert_close(
        target.state_dict()['layers.0.attn.qkv.weight'],
        source.state_dict()['layers.0.attn.qkv.weight'],
    )


def test_cxr_pretrained_is_used_by_init_cfg(tmp_path):
    one_layer = tmp_path / 'one_layer.pth'
    torch.save({'state_dict': _tiny_vit(num_layers=1).state_dict()}, one_layer)
    model = CXRViT(
        arch=TINY_VIT_ARCH,
        img_size=32,
        patch_size=8,
        init_cfg=dict(type='CXRPretrained', checkpoint=str(one_layer)),
    )
    with pytest.raises(CheckpointMismatchError, match='layers.1'):
        model.init_weights()
