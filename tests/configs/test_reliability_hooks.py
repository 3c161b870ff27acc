"""Every shipped training recipe keeps NaNGuardHook and RNGStateHook.

Provokes: a leaf config that sets ``custom_hooks`` to its own list replaces
the runtime base's hooks (the MSMAE recipes did), and its runs then neither
stop on a diverging loss nor resume exactly.
"""

from __future__ import annotations

import pytest
from cxr_test_utils import REPO_ROOT
from mmengine.config import Config

RECIPES = sorted(
    path for path in (REPO_ROOT / 'configs').rglob('*.py') if '_base_' not in path.parts
)


@pytest.mark.parametrize(
    'path', RECIPES, ids=[str(p.relative_to(REPO_ROOT)) for p in RECIPES]
)
def test_recipe_keeps_the_reliability_hooks(path):
    config = Config.fromfile(path)
    if 'train_cfg' not in config:
        pytest.skip(f'{path.name} trains nothing')
    types = {hook['type'].split('.')[-1] for hook in config.get('custom_hooks', [])}
    assert {'NaNGuardHook', 'RNGStateHook'} <= types, sorted(types)
