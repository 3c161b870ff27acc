"""Every segmentation config builds and trains 2 iterations on CPU (tiny)."""

from __future__ import annotations

import pytest
import torch
from cxr_test_utils import REPO_ROOT
from mmengine.config import Config
from mmengine.runner import Runner

pytestmark = pytest.mark.usefixtures('mmseg_scope')

CONFIGS = sorted(
    [*(REPO_ROOT / 'configs' / 'segmentation').rglob('*.py')]
    + [
        p
        for p in (REPO_ROOT / 'configs' / 'demo').glob('*.py')
        if Config.fromfile(p).default_scope == 'mmseg'
    ]
)


def test_config_folder_is_populated():
    names = {path.parent.name for path in CONFIGS}
    assert {'mrm', 'evax', 'smp', 'demo'} <= names and len(CONFIGS) >= 7


@pytest.mark.parametrize('path', CONFIGS, ids=lambda p: p.stem)
def test_config_builds_model(path, tmp_path, siim_prepared, tiny_config):
    from mmseg.registry import MODELS

    cfg = tiny_config(path, tmp_path, siim_prepared)
    model = MODELS.build(cfg.model)
    logits = model(torch.rand(2, 3, 64, 64), mode='tensor')  # 2: BN in PPM
    assert logits.shape[0] == 2 and logits.shape[1] in (1, 2)


@pytest.mark.slow
@pytest.mark.parametrize('path', CONFIGS, ids=lambda p: p.stem)
def test_config_trains_two_iterations(path, tmp_path, siim_prepared, tiny_config):
    cfg = tiny_config(path, tmp_path, siim_prepared)
    runner = Runner.from_cfg(cfg)
    runner.train()
    assert runner.iter == 2
    history = runner.message_hub.get_scalar('train/loss')
    assert len(history.data[0]) == 2
    assert all(torch.isfinite(torch.tensor(v)) for v in history.data[0])
    metrics = runner.message_hub.get_info('eval_res') or {}
    scalars = runner.message_hub.log_scalars
    assert 'val/Dice' in scalars or 'Dice' in metrics
    assert 0.0 <= scalars['val/Dice'].current() <= 100.0
