"""Data-loader workers end with the trainer that started them.

Provokes: ``tools/train.py`` with two persistent data-loader workers is
paused mid-epoch and stopped with SIGTERM, then (another run) SIGKILL. Every
worker process must be gone within 2 s of the trainer's end. Torch's workers
only notice a dead parent when their index queue times out (every 5 s), and
not at all while busy in a long ``__getitem__``; with ``import cxr_plugins``
workers ask the kernel for SIGKILL when their parent dies
(:mod:`cxr_plugins.engine.worker_lifetime`).
"""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from pathlib import Path

import psutil
import pytest
from cxr_test_utils import REPO_ROOT
from mmengine.config import Config
from reliability_parts import (
    PAUSE_ENV,
    PAUSED_MARKER,
    resume_recipe_config,
    write_tiny_image_folder,
)

TRAIN = REPO_ROOT / 'tools' / 'train.py'


@pytest.mark.slow
@pytest.mark.skipif(sys.platform != 'linux', reason='PR_SET_PDEATHSIG is Linux-only')
@pytest.mark.parametrize('stop_signal', [signal.SIGTERM, signal.SIGKILL])
def test_no_worker_outlives_a_stopped_trainer(tmp_path, subprocess_env, stop_signal):
    images = write_tiny_image_folder(tmp_path / 'images', size=16)
    work_dir = tmp_path / 'work'
    config = resume_recipe_config(images, work_dir, True, 2, True, 3)
    config_path = tmp_path / 'config.py'
    Config(config).dump(config_path)
    log = tmp_path / 'train.log'
    with log.open('w') as log_file:
        trainer = subprocess.Popen(
            [sys.executable, str(TRAIN), str(config_path)],
            cwd=REPO_ROOT,
            env={**subprocess_env, PAUSE_ENV: '2'},
            stdout=log_file,
            stderr=subprocess.STDOUT,
        )
    try:
        deadline = time.monotonic() + 300
        while not (work_dir / PAUSED_MARKER).exists():
            assert trainer.poll() is None, log.read_text()
            assert time.monotonic() < deadline, 'the trainer never paused'
            time.sleep(0.1)
        workers = psutil.Process(trainer.pid).children(recursive=True)
        assert len(workers) >= 2, [w.cmdline() for w in workers]
        trainer.send_signal(stop_signal)
        trainer.wait(timeout=60)
        _, alive = psutil.wait_procs(workers, timeout=2)
        assert not alive, f'{len(alive)} worker(s) outlived the trainer by 2 s'
    finally:
        if trainer.poll() is None:
            trainer.kill()
        for process in psutil.Process().children(recursive=True):
            if process.pid != trainer.pid and str(Path(tmp_path)) in ' '.join(
                process.cmdline()
            ):
                process.kill()
