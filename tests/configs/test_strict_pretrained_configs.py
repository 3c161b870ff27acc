"""No config loads pretrained weights non-strictly.

mmengine's ``Pretrained`` init loads with ``strict=False`` and only logs what
did not match; every config must use ``CXRPretrained`` (strict, with the keys
it expects to be absent or extra spelled out) instead.
"""

from __future__ import annotations

import pytest
from cxr_test_utils import REPO_ROOT
from mmengine.config import Config

CONFIGS = sorted(
    path for path in (REPO_ROOT / 'configs').rglob('*.py') if '_base_' not in path.parts
)


def _init_cfgs(node, path='model'):
    if isinstance(node, dict):
        if 'init_cfg' in node:
            init = node['init_cfg']
            for cfg in init if isinstance(init, list) else [init]:
                if isinstance(cfg, dict):
                    yield f'{path}.init_cfg', cfg
        for key, value in node.items():
            yield from _init_cfgs(value, f'{path}.{key}')
    elif isinstance(node, list | tuple):
        for index, value in enumerate(node):
            yield from _init_cfgs(value, f'{path}[{index}]')


def test_there_are_configs():
    assert len(CONFIGS) > 30


@pytest.mark.parametrize('config', CONFIGS, ids=lambda p: p.stem)
def test_pretrained_init_is_strict(config):
    cfg = Config.fromfile(config)
    for where, init in _init_cfgs(cfg.to_dict().get('model', {})):
        assert init.get('type') != 'Pretrained', (
            f'{config.relative_to(REPO_ROOT)}: {where} uses non-strict '
            "mmengine Pretrained; use type='CXRPretrained' with allowed_missing/"
            'allowed_unexpected'
        )
        if init.get('type') == 'CXRPretrained':
            assert init.get('checkpoint'), where
