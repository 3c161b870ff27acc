"""A rank that raises brings a 2-process CPU job down, with its error shown.

Provokes: ``tools/dist_train.sh`` starts 2 gloo processes; rank 1 raises at
iteration 2 while rank 0 waits in DDP's gradient all-reduce. The job must exit
non-zero well within the timeout (no hang), and torchrun's failure summary must
name rank 1 and its exception (``tools/train.py`` records worker errors with
``torch.distributed.elastic``'s ``@record``; without it the summary says only
``error_file: <N/A>``).
"""

import subprocess
import sys
import time

import pytest
from cxr_test_utils import REPO_ROOT
from mmengine.config import Config
from reliability_parts import tiny_config

REPO_ROOT = REPO_ROOT


@pytest.mark.slow
def test_rank_failure_ends_the_job_with_its_error(
    tmp_path, tiny_images, subprocess_env, free_port
):
    config_path = tmp_path / 'raise_on_rank1.py'
    config = tiny_config(
        tiny_images,
        tmp_path / 'work',
        max_iters=6,
        batch_size=2,
        custom_hooks=[dict(type='RelTestRaiseOnRankHook', rank=1, at_iter=2)],
    )
    Config(config).dump(config_path)

    env = {**subprocess_env, 'PYTHON': sys.executable, 'PORT': str(free_port)}
    started = time.monotonic()
    job = subprocess.run(
        ['bash', str(REPO_ROOT / 'tools' / 'dist_train.sh'), str(config_path), '2'],
        cwd=REPO_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=240,
    )
    elapsed = time.monotonic() - started
    output = job.stdout + job.stderr

    assert job.returncode != 0, output
    assert elapsed < 200, f'job took {elapsed:.0f} s to fail'
    assert 'Root Cause' in output, output[-3000:]
    summary = output[output.rindex('Root Cause') :]
    assert 'rank      : 1' in summary, summary
    assert 'RelTest deliberate failure on rank 1 at iteration 2' in summary, summary
