"""Kill/resume matrix: a SIGKILLed run resumes to the uninterrupted weights exactly.

Provokes: ``tools/train.py`` is SIGKILLed mid-epoch (after iteration 5, one
and two thirds epochs in; the last checkpoint is ``epoch_1.pth`` or
``iter_4.pth``) and finished with ``--resume``. The recipe has every random
stream a shipped recipe has: random resized crop and flip in the data
pipeline, dropout and drop path in the model, validation between epochs; it is
run epoch-based with 0, 1 and 2 workers, persistent or not, and
iteration-based. The final weights and AdamW moments must equal those of an
uninterrupted run exactly. Without :class:`RNGStateHook`'s stream separation
the runs with augmentation differ (the model's draws shift by the data's with
0 workers and by validation's base seed; persistent workers restart their
streams).
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch
from cxr_test_utils import REPO_ROOT
from mmengine.config import Config
from mmengine.runner import Runner
from reliability_parts import (
    PAUSE_ENV,
    PAUSED_MARKER,
    resume_recipe_config,
    write_tiny_image_folder,
)

from cxr_plugins.compat import load_checkpoint_file

TRAIN = REPO_ROOT / 'tools' / 'train.py'


@pytest.fixture(scope='module')
def images_16px(tmp_path_factory) -> Path:
    return write_tiny_image_folder(tmp_path_factory.mktemp('images_16px'), size=16)


def _wait_for(path: Path, process: subprocess.Popen, log: Path) -> None:
    deadline = time.monotonic() + 180
    while not path.exists():
        if process.poll() is not None:
            raise AssertionError(
                f'training exited ({process.returncode}) before pausing:\n'
                f'{log.read_text()}'
            )
        if time.monotonic() > deadline:
            process.kill()
            raise AssertionError(f'{path} did not appear in 180 s')
        time.sleep(0.1)


def _train_in_process(config: dict) -> None:
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        Runner.from_cfg(Config(config)).train()
    finally:
        torch.set_num_threads(threads)


def _start_paused_run(config_path: Path, log: Path, env: dict) -> subprocess.Popen:
    """``tools/train.py`` that pauses for good after iteration 5."""
    with log.open('w') as log_file:
        return subprocess.Popen(
            [sys.executable, str(TRAIN), str(config_path)],
            cwd=REPO_ROOT,
            env={**env, PAUSE_ENV: '5'},
            stdout=log_file,
            stderr=subprocess.STDOUT,
        )


def _resume(config_path: Path, env: dict) -> None:
    resumed = subprocess.run(
        [sys.executable, str(TRAIN), str(config_path), '--resume'],
        cwd=REPO_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    output = resumed.stdout + resumed.stderr
    assert resumed.returncode == 0, output
    assert 'restored the random number generators' in output


def _assert_bitwise_equal(resumed: dict, reference: dict) -> None:
    assert resumed['meta']['iter'] == reference['meta']['iter']
    differing = [
        key
        for key, value in reference['state_dict'].items()
        if not torch.equal(resumed['state_dict'][key], value)
    ]
    assert not differing, f'weights differ after the resume: {differing}'
    for index, moments in reference['optimizer']['state'].items():
        for name in ('exp_avg', 'exp_avg_sq'):
            assert torch.equal(
                resumed['optimizer']['state'][index][name], moments[name]
            )


CASES = [
    pytest.param(True, 0, False, id='epoch-workers0'),
    pytest.param(True, 1, False, id='epoch-workers1'),
    pytest.param(True, 1, True, id='epoch-workers1-persistent'),
    pytest.param(True, 2, False, id='epoch-workers2'),
    pytest.param(True, 2, True, id='epoch-workers2-persistent'),
    pytest.param(False, 0, False, id='iter-workers0'),
    pytest.param(False, 2, True, id='iter-workers2-persistent'),
]


@pytest.mark.slow
@pytest.mark.parametrize(('by_epoch', 'num_workers', 'persistent'), CASES)
def test_sigkill_mid_epoch_then_resume_is_bitwise_exact(
    by_epoch, num_workers, persistent, images_16px, tmp_path, subprocess_env
):
    length = 3 if by_epoch else 8
    final = 'epoch_3.pth' if by_epoch else 'iter_8.pth'

    def config(name: str) -> dict:
        return resume_recipe_config(
            images_16px, tmp_path / name, by_epoch, num_workers, persistent, length
        )

    killed_dir = tmp_path / 'killed'
    config_path = tmp_path / 'killed.py'
    Config(config('killed')).dump(config_path)
    log = tmp_path / 'killed.log'
    killed = _start_paused_run(config_path, log, subprocess_env)
    _train_in_process(config('reference'))  # meanwhile
    _wait_for(killed_dir / PAUSED_MARKER, killed, log)
    os.kill(killed.pid, signal.SIGKILL)
    killed.wait(timeout=30)
    assert killed.returncode == -signal.SIGKILL
    assert not (killed_dir / final).exists()

    _resume(config_path, subprocess_env)
    _assert_bitwise_equal(
        load_checkpoint_file(killed_dir / final),
        load_checkpoint_file(tmp_path / 'reference' / final),
    )
