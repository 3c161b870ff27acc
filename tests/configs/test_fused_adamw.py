"""Every AdamW schedule builds torch's fused AdamW (one kernel per step)."""

from __future__ import annotations

import pytest
from mmengine.config import Config
from mmengine.optim import build_optim_wrapper
from torch import nn


def _configs(repo_root):
    return [
        path
        for path in sorted((repo_root / 'configs').rglob('*.py'))
        if '_base_' not in path.parts or 'schedules' in path.parts
    ]


def test_every_adamw_is_fused(repo_root):
    adamw = 0
    for path in _configs(repo_root):
        cfg = Config.fromfile(path)
        optimizer = (cfg.get('optim_wrapper') or {}).get('optimizer') or {}
        if optimizer.get('type') == 'AdamW':
            assert optimizer.get('fused') is True, path
            adamw += 1
    assert adamw >= 25


@pytest.mark.usefixtures('mmpretrain_scope')
def test_schedule_builds_a_fused_optimizer(repo_root):
    cfg = Config.fromfile(
        repo_root / 'configs/_base_/schedules/pretrain_adamw_warmup-cosine.py'
    )
    model = nn.Sequential(nn.Linear(4, 4), nn.LayerNorm(4))
    wrapper = build_optim_wrapper(model, cfg.optim_wrapper)
    assert wrapper.optimizer.defaults['fused'] is True
    model(nn.init.normal_(model[0].weight.new_empty(2, 4))).sum().backward()
    wrapper.step()  # the fused CPU kernel runs
