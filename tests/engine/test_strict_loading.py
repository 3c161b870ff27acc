"""Strict loading on every path weights enter a model.

* ``CXRPretrained`` inside a classifier, for every backbone family we ship
  (mmpretrain ``ResNet``, ``CXRDenseNet``, ``CXRViT``, ``EVAX``,
  ``TIMMBackbone``): after ``init_weights`` every backbone tensor equals the
  file's. Regression: mmpretrain's ``ResNet.init_weights`` zeroed every
  Bottleneck ``bn3`` after the load (``zero_init_residual`` is skipped only
  for ``type='Pretrained'``).
* ``tools/test.py`` / ``load_from`` refuse a checkpoint lacking a layer or of
  the wrong width, naming the keys, and exit non-zero; ``--non-strict``
  loads what fits and prints what it skipped.
"""

from __future__ import annotations

import subprocess
import sys

import pytest
import torch
from cxr_test_utils import REPO_ROOT
from mmengine.registry import DefaultScope

from cxr_plugins.engine.checkpoint import (
    CheckpointMismatchError,
    init_weights_then_load,
)

BACKBONES = {
    'ResNet': dict(type='ResNet', depth=50, out_indices=(3,)),
    'CXRDenseNet': dict(type='CXRDenseNet', arch='demo'),
    'CXRViT': dict(type='CXRViT', arch='demo', img_size=32, patch_size=8),
    'EVAX': dict(type='EVAX', arch='demo', img_size=32, patch_size=8),
    'TIMMBackbone': dict(type='TIMMBackbone', model_name='resnet18', pretrained=False),
}


def _random_weights(backbone: torch.nn.Module) -> dict[str, torch.Tensor]:
    generator = torch.Generator().manual_seed(0)
    return {
        key: (torch.rand(value.shape, generator=generator) + 0.5)
        if value.is_floating_point()
        else value.clone()
        for key, value in backbone.state_dict().items()
    }


@pytest.mark.parametrize('family', sorted(BACKBONES))
def test_cxr_pretrained_survives_every_backbone_init(family, tmp_path):
    from mmpretrain.registry import MODELS

    with DefaultScope.overwrite_default_scope('mmpretrain'):
        weights = _random_weights(MODELS.build(BACKBONES[family]))
        path = tmp_path / 'weights.pth'
        torch.save(
            {'state_dict': {f'backbone.{k}': v for k, v in weights.items()}}, path
        )
        init_cfg = dict(type='CXRPretrained', checkpoint=str(path), prefix='backbone.')
        classifier = MODELS.build(
            dict(
                type='ImageClassifier',
                backbone=dict(BACKBONES[family], init_cfg=init_cfg),
                neck=dict(type='GlobalAveragePooling')
                if family in ('ResNet', 'CXRDenseNet', 'TIMMBackbone')
                else None,
            )
        )
        classifier.init_weights()
        standalone = MODELS.build(dict(BACKBONES[family], init_cfg=init_cfg))
        standalone.init_weights()  # the backbone alone, its own override first
        explicit = MODELS.build(dict(BACKBONES[family], init_cfg=init_cfg))
        init_weights_then_load(explicit)
    for model in (classifier.backbone, standalone, explicit):
        changed = [
            key
            for key, value in model.state_dict().items()
            if not torch.equal(value, weights[key])
        ]
        assert not changed, (family, changed[:5])


CONFIG = REPO_ROOT / 'configs/demo/vit-demo-p8_1xb64-30e_nih14-demo-64px.py'


@pytest.fixture(scope='module')
def trained_state() -> dict[str, torch.Tensor]:
    from mmengine.config import Config
    from mmpretrain.registry import MODELS

    cfg = Config.fromfile(CONFIG)
    with DefaultScope.overwrite_default_scope('mmpretrain'):
        return MODELS.build(cfg.model).state_dict()


def _run_test_tool(checkpoint, work_dir, *extra) -> subprocess.CompletedProcess:
    return subprocess.run(
        [
            sys.executable,
            str(REPO_ROOT / 'tools/test.py'),
            str(CONFIG),
            str(checkpoint),
            '--work-dir',
            str(work_dir),
            '--cfg-options',
            f'test_dataloader.dataset.data_root={REPO_ROOT}/data/demo/nih14_64px',
            'test_dataloader.num_workers=0',
            'test_dataloader.persistent_workers=False',
            'test_evaluator.bootstrap=0',
            *extra,
        ],
        capture_output=True,
        text=True,
        timeout=600,
        cwd=REPO_ROOT,
    )


@pytest.mark.slow
def test_test_tool_refuses_a_checkpoint_that_does_not_fit(trained_state, tmp_path):
    """A missing layer: exit non-zero, keys named; the opt-in loads the rest."""
    lacking = {
        k: v for k, v in trained_state.items() if not k.startswith('backbone.layers.3.')
    }
    torch.save({'state_dict': lacking}, tmp_path / 'lacking.pth')
    refused = _run_test_tool(tmp_path / 'lacking.pth', tmp_path / 'a')
    assert refused.returncode != 0
    assert 'CheckpointMismatchError' in refused.stderr
    assert 'backbone.layers.3.attn.qkv.weight' in refused.stderr

    loaded = _run_test_tool(tmp_path / 'lacking.pth', tmp_path / 'c', '--non-strict')
    assert loaded.returncode == 0, loaded.stderr[-2000:]
    assert 'backbone.layers.3.attn.qkv.weight' in loaded.stdout + loaded.stderr
    assert '--non-strict: loaded the rest' in loaded.stdout + loaded.stderr


def test_load_from_is_strict(trained_state, tmp_path):
    """Runner.load_checkpoint (load_from / --resume / test) refuses and names keys."""
    from mmengine.config import Config
    from mmengine.runner import Runner

    from cxr_plugins.engine.checkpoint import allow_non_strict_load

    cfg = Config.fromfile(CONFIG)
    cfg.work_dir = str(tmp_path / 'work')
    runner = Runner.from_cfg(cfg)
    lacking = {k: v for k, v in trained_state.items() if not k.startswith('head.')}
    torch.save({'state_dict': lacking}, tmp_path / 'lacking.pth')
    with pytest.raises(CheckpointMismatchError, match=r'head\.fc\.weight'):
        runner.load_checkpoint(str(tmp_path / 'lacking.pth'))
    allow_non_strict_load()
    try:
        runner.load_checkpoint(str(tmp_path / 'lacking.pth'))
    finally:
        allow_non_strict_load(False)
    torch.testing.assert_close(
        runner.model.backbone.cls_token, trained_state['backbone.cls_token']
    )
