"""A run killed with SIGKILL mid-epoch resumes to the uninterrupted result.

Provokes: ``tools/train.py`` is SIGKILLed after iteration 5 of 8 (checkpoints
every 2 iterations, 3 iterations per epoch), i.e. mid-epoch with one iteration
of progress past the last checkpoint; ``tools/train.py --resume`` then finishes
it. The final weights, the model's stateful buffers (stand-ins for MSMAE's
attention maps), the AdamW moments, the lr schedule and the logged losses must
equal those of an uninterrupted run with the same seed. The model has dropout,
so this fails without :class:`RNGStateHook`; it also fails if the sampler
position or scheduler state were not resumed.
"""

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
from reliability_parts import PAUSE_ENV, PAUSED_MARKER, tiny_config

from cxr_plugins.compat import load_checkpoint_file

REPO_ROOT = REPO_ROOT
TRAIN = REPO_ROOT / 'tools' / 'train.py'


def _train_in_process(config: dict) -> None:
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        Runner.from_cfg(Config(config)).train()
    finally:
        torch.set_num_threads(threads)


def _wait_for(
    path: Path, process: subprocess.Popen, log: Path, timeout_s: float
) -> None:
    deadline = time.monotonic() + timeout_s
    while not path.exists():
        if process.poll() is not None:
            raise AssertionError(
                f'training exited ({process.returncode}) before {path.name} '
                f'appeared:\n{log.read_text()}'
            )
        if time.monotonic() > deadline:
            process.kill()
            raise AssertionError(f'{path} did not appear in {timeout_s} s')
        time.sleep(0.2)


def _assert_same_training_state(resumed: dict, reference: dict) -> None:
    assert resumed['meta']['iter'] == reference['meta']['iter'] == 8
    for key, value in reference['state_dict'].items():
        torch.testing.assert_close(
            resumed['state_dict'][key], value, rtol=1e-5, atol=1e-6, msg=key
        )
    resumed_moments = resumed['optimizer']['state']
    for index, moments in reference['optimizer']['state'].items():
        for name in ('exp_avg', 'exp_avg_sq'):
            torch.testing.assert_close(
                resumed_moments[index][name], moments[name], rtol=1e-5, atol=1e-8
            )
    assert (
        resumed['optimizer']['param_groups'][0]['lr']
        == reference['optimizer']['param_groups'][0]['lr']
    )
    assert resumed['param_schedulers'] == reference['param_schedulers']
    resumed_loss = resumed['message_hub']['log_scalars']['train/loss']
    reference_loss = reference['message_hub']['log_scalars']['train/loss']
    torch.testing.assert_close(
        torch.tensor(resumed_loss.data[0][-4:]),
        torch.tensor(reference_loss.data[0][-4:]),
        rtol=1e-5,
        atol=1e-6,
    )


@pytest.mark.slow
def test_sigkill_mid_epoch_then_resume_matches_uninterrupted_run(
    tmp_path, tiny_images, subprocess_env
):
    killed_dir = tmp_path / 'killed'
    config_path = tmp_path / 'tiny.py'
    Config(tiny_config(tiny_images, killed_dir)).dump(config_path)

    command = [
        sys.executable,
        str(TRAIN),
        str(config_path),
        '--work-dir',
        str(killed_dir),
    ]
    killed_log = tmp_path / 'killed.log'
    with killed_log.open('w') as log_file:
        killed = subprocess.Popen(
            command,
            cwd=REPO_ROOT,
            env={**subprocess_env, PAUSE_ENV: '5'},
            stdout=log_file,
            stderr=subprocess.STDOUT,
        )
        reference_dir = tmp_path / 'reference'
        _train_in_process(tiny_config(tiny_images, reference_dir))
        _wait_for(killed_dir / PAUSED_MARKER, killed, killed_log, timeout_s=180)
        os.kill(killed.pid, signal.SIGKILL)
        killed.wait(timeout=30)

    assert killed.returncode == -signal.SIGKILL
    assert (killed_dir / 'iter_4.pth').is_file()
    assert not (killed_dir / 'iter_6.pth').exists()
    assert (killed_dir / 'last_checkpoint').read_text().endswith('iter_4.pth')

    resumed = subprocess.run(
        command + ['--resume'],
        cwd=REPO_ROOT,
        env=subprocess_env,
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert resumed.returncode == 0, resumed.stdout + resumed.stderr
    log = resumed.stdout + resumed.stderr
    assert 'Advance dataloader 4 steps' in log
    assert 'restored the random number generators saved at iteration 4' in log

    _assert_same_training_state(
        load_checkpoint_file(killed_dir / 'iter_8.pth'),
        load_checkpoint_file(reference_dir / 'iter_8.pth'),
    )
    memory = load_checkpoint_file(killed_dir / 'iter_8.pth')['state_dict']
    assert int(memory['step_count']) == 8
    assert memory['feature_memory'].abs().sum() > 0


def test_msmae_attention_maps_survive_a_resume_checkpoint(tmp_path):
    """MSMAE's maps (a buffer sized at the first refresh) load back on resume.

    Provokes: a fresh MSMAE model (empty ``attention_maps``) resumes from a
    checkpoint written by our atomic saver and read by the safe loader, the way
    ``Runner.resume`` does it (``strict=False``, so a dropped buffer would pass
    silently).
    """
    from mmengine.runner.checkpoint import _load_checkpoint_to_model, save_checkpoint
    from mmpretrain.registry import MODELS

    config = Config.fromfile(
        REPO_ROOT
        / 'configs'
        / 'pretrain'
        / 'msmae'
        / 'msmae_vit-demo-p8_dec128d2b_1xb32-30e_nih14-demo-64px.py'
    )
    trained = MODELS.build(config.model)
    maps = torch.rand(5, *trained.backbone.patch_grid)
    trained.store_attention_maps(torch.arange(5), maps, num_samples=5)
    path = tmp_path / 'epoch_20.pth'
    save_checkpoint(
        {'state_dict': trained.state_dict(), 'meta': {'epoch': 20}}, str(path)
    )

    resumed = MODELS.build(config.model)
    assert not resumed.has_attention_maps
    _load_checkpoint_to_model(resumed, load_checkpoint_file(path), strict=False)
    torch.testing.assert_close(resumed.attention_maps, maps)
