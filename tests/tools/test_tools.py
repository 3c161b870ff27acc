"""tools/train.py, tools/test.py and tools/dist_train.sh on the demo data."""

import sys
from pathlib import Path

import torch
from cxr_test_utils import output_of, run_tool

MAE_DEMO = 'configs/demo/mae_vit-demo-p8_dec128d2b_1xb64-20e_nih14-demo-64px.py'
# A small, fast slice of the demo job: 10 % of the training patients.
SMALL = [
    'train_dataloader.batch_size=8',
    'train_dataloader.num_workers=0',
    'train_dataloader.persistent_workers=False',
    'train_dataloader.dataset.fraction=0.1',
    'default_hooks.checkpoint.interval=1',
]


def test_dist_train_two_cpu_processes(tmp_path, free_port):
    """2 gloo processes through tools/dist_train.sh: both ranks train and save."""
    work_dir = tmp_path / 'dist'
    result = run_tool(
        [
            'bash',
            'tools/dist_train.sh',
            MAE_DEMO,
            '2',
            '--work-dir',
            str(work_dir),
            '--cfg-options',
            'train_cfg.max_epochs=1',
            'train_dataloader.dataset.indices=8',
            'train_dataloader.batch_size=2',
            'train_dataloader.num_workers=0',
            'train_dataloader.persistent_workers=False',
        ],
        PORT=str(free_port),
    )
    log = output_of(result)
    assert result.returncode == 0, log[-4000:]
    assert 'Distributed training: True' in log
    # 8 images / 2 processes / batch 2 = 2 iterations per process
    assert 'Epoch(train) [1][2/2]' in log
    assert 'current batch size is 4' in log  # auto_scale_lr sees both ranks
    checkpoint = torch.load(work_dir / 'epoch_1.pth', weights_only=False)
    assert checkpoint['meta']['iter'] == 2
    assert any(k.startswith('backbone.layers.') for k in checkpoint['state_dict'])
    assert '[cxr_plugins] checkpoints:' in log


def test_train_resume_cli(tmp_path):
    work_dir = tmp_path / 'resume'
    first = run_tool(
        [
            sys.executable,
            'tools/train.py',
            MAE_DEMO,
            '--work-dir',
            str(work_dir),
            '--cfg-options',
            'train_cfg.max_epochs=1',
            *SMALL,
        ]
    )
    assert first.returncode == 0, output_of(first)[-4000:]
    second = run_tool(
        [
            sys.executable,
            'tools/train.py',
            MAE_DEMO,
            '--work-dir',
            str(work_dir),
            '--resume',
            '--cfg-options',
            'train_cfg.max_epochs=2',
            *SMALL,
        ]
    )
    log = output_of(second)
    assert second.returncode == 0, log[-4000:]
    assert 'resumed epoch: 1' in log
    assert Path(work_dir, 'epoch_2.pth').is_file()
