"""FSDP through mmengine's FlexibleRunner: config path and a 2-process CPU/gloo run."""

import os
import subprocess
import sys

import pytest
from cxr_test_utils import REPO_ROOT as REPO
from mmengine.config import Config
from mmengine.runner import FlexibleRunner, Runner

from cxr_plugins.apis.launch import apply_strategy

DEMO = 'configs/pretrain/mae/mae_vit-demo-p8_dec128d2b_1xb32-30e_nih14-demo-64px.py'
LARGE = (
    'configs/pretrain/mae/'
    'mae_vit-large-p16_dec512d8b_8xb128-fsdp-800e_nih-chexpert-mimic.py'
)


def test_strategy_selects_the_runner():
    large = Config.fromfile(REPO / LARGE)
    assert large.model.backbone.arch == 'l'
    assert apply_strategy(large.copy(), None) is FlexibleRunner
    assert apply_strategy(large, 'ddp') is Runner and 'strategy' not in large
    demo = Config.fromfile(REPO / DEMO)
    assert apply_strategy(demo.copy(), None) is Runner
    demo.optim_wrapper.type = 'AutoAmpOptimWrapper'
    assert apply_strategy(demo, 'fsdp') is FlexibleRunner
    assert demo.strategy.type == 'FSDPStrategy'
    assert demo.optim_wrapper.use_fsdp is True


@pytest.mark.slow
def test_two_process_fsdp_pretraining_on_cpu(tmp_path, free_port):
    work_dir = tmp_path / 'work'
    env = dict(
        os.environ, PYTHON=sys.executable, PORT=str(free_port), OMP_NUM_THREADS='1'
    )
    command = [
        'bash',
        'tools/dist_train.sh',
        DEMO,
        '2',
        '--strategy',
        'fsdp',
        '--threads',
        '1',
        '--work-dir',
        str(work_dir),
        '--cfg-options',
        'train_dataloader.dataset.indices=8',
        'train_dataloader.batch_size=2',
        'train_dataloader.num_workers=0',
        'train_dataloader.persistent_workers=False',
        'train_cfg.max_epochs=1',
        # the demo ViT is tiny: make every block an FSDP unit
        'strategy.model_wrapper.auto_wrap_policy.min_num_params=10000',
    ]
    result = subprocess.run(
        command, cwd=REPO, env=env, capture_output=True, text=True, timeout=600
    )
    output = result.stdout + result.stderr
    assert result.returncode == 0, output[-3000:]
    assert 'Epoch(train) [1][2/2]' in output
    assert 'FullyShardedDataParallel' in output or (work_dir / 'epoch_1.pth').exists()
