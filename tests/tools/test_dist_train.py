"""2-process CPU (gloo) MAE pretraining through tools/dist_train.sh."""

import os
import subprocess
import sys

import pytest
import torch
from cxr_test_utils import REPO_ROOT as REPO

CONFIG = 'configs/pretrain/mae/mae_vit-demo-p8_dec128d2b_1xb32-30e_nih14-demo-64px.py'


@pytest.mark.slow
def test_two_process_mae_pretraining(tmp_path, free_port):
    work_dir = tmp_path / 'work'
    env = dict(
        os.environ, PYTHON=sys.executable, PORT=str(free_port), OMP_NUM_THREADS='1'
    )
    command = [
        'bash',
        'tools/dist_train.sh',
        CONFIG,
        '2',
        '--work-dir',
        str(work_dir),
        '--cfg-options',
        'train_dataloader.dataset.indices=8',
        'train_dataloader.batch_size=2',
        'train_dataloader.num_workers=0',
        'train_dataloader.persistent_workers=False',
        'train_cfg.max_epochs=1',
    ]
    result = subprocess.run(
        command, cwd=REPO, env=env, capture_output=True, text=True, timeout=600
    )
    output = result.stdout + result.stderr
    assert result.returncode == 0, output[-3000:]
    # 8 images / 2 processes / batch 2 = 2 iterations per process
    assert 'Epoch(train) [1][2/2]' in output
    assert 'Distributed training: True' in output
    assert 'current batch size is 4' in output  # auto_scale_lr sees both ranks
    checkpoint = torch.load(work_dir / 'epoch_1.pth', weights_only=False)
    assert checkpoint['meta']['iter'] == 2
    assert any(k.startswith('backbone.layers.') for k in checkpoint['state_dict'])
