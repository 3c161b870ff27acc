"""Every config under configs/ loads, has no legacy keys, and builds its model."""

import pytest
from cxr_test_utils import REPO_ROOT
from mmengine.config import Config
from mmengine.registry import MODELS, DefaultScope

import cxr_plugins  # noqa: F401

CONFIG_DIR = REPO_ROOT / 'configs'
CONFIGS = sorted(p for p in CONFIG_DIR.rglob('*.py') if '_base_' not in p.parts)
# Keys of the mmcv 1.x / MMSeg 0.x era that the mmengine Runner never reads.
LEGACY_KEYS = {
    'fp16',
    'optimizer',
    'optimizer_config',
    'lr_config',
    'runner',
    'workflow',
    'total_epochs',
    'checkpoint_config',
    'log_config',
    'evaluation',
    'data',
    'dist_params',
}


def test_configs_exist():
    assert len(CONFIGS) >= 3


@pytest.mark.parametrize('path', CONFIGS, ids=lambda p: str(p.relative_to(CONFIG_DIR)))
def test_config_loads_and_builds(path):
    cfg = Config.fromfile(str(path))
    dead = LEGACY_KEYS & set(cfg.keys())
    assert not dead, f'{path}: legacy keys the runner ignores: {sorted(dead)}'
    assert cfg.get('default_scope') in ('mmpretrain', 'mmseg'), path
    assert 'cxr_plugins' in cfg.custom_imports['imports'], path
    with DefaultScope.overwrite_default_scope(cfg.default_scope):
        model = MODELS.build(cfg.model)
    assert sum(p.numel() for p in model.parameters()) > 0
