"""A process killed while writing a checkpoint leaves the last good one intact.

Provokes: a child process lowers ``RLIMIT_FSIZE`` below the next checkpoint's
size and saves through the function mmengine's Runner calls: the kernel kills
it with SIGXFSZ in the middle of the write, as a full disk or a kill would.
(A fresh interpreter, not ``os.fork``: forking a process whose torch/OpenMP
threads hold locks can deadlock the child.) Without the atomic writer the
final file name would hold the truncated bytes; with it the previous checkpoint
loads and no partial file carries a final name. The same is checked for the
``last_checkpoint`` pointer written by mmengine's CheckpointHook.
"""

import os
import signal
import subprocess
import sys
import textwrap

import mmengine.hooks.checkpoint_hook as checkpoint_hook_module
import mmengine.runner.runner as runner_module
import pytest
import torch

from cxr_plugins.compat import load_checkpoint_file
from cxr_plugins.engine.checkpoint import atomic_write_bytes


def _run_in_child(code: str, file_size_limit: int) -> int:
    """Run ``code`` in a new interpreter under a file-size limit.

    Returns the signal that ended the child (0 if it exited normally).
    """
    prelude = (
        'import resource, signal, torch\n'
        'import cxr_plugins\n'
        'import mmengine.hooks.checkpoint_hook as checkpoint_hook_module\n'
        'import mmengine.runner.runner as runner_module\n'
        'signal.signal(signal.SIGXFSZ, signal.SIG_DFL)\n'
        f'resource.setrlimit(resource.RLIMIT_FSIZE, ({file_size_limit}, '
        f'{file_size_limit}))\n'
    )
    result = subprocess.run(
        [sys.executable, '-c', prelude + textwrap.dedent(code)],
        env=dict(os.environ, PYTHONDONTWRITEBYTECODE='1'),
        capture_output=True,
        text=True,
        timeout=300,
    )
    if result.returncode >= 0:
        raise AssertionError(f'child was not killed: {result.stderr[-2000:]}')
    return -result.returncode


def test_kill_during_checkpoint_write_keeps_previous_checkpoint(tmp_path):
    path = tmp_path / 'iter_2.pth'
    good = {'state_dict': {'weight': torch.arange(1000.0)}, 'meta': {'iter': 2}}
    runner_module.save_checkpoint(good, str(path))
    size = path.stat().st_size

    crash_while_saving = f"""
        weights = {{'weight': torch.zeros(50_000)}}
        bigger = {{'state_dict': weights, 'meta': {{'iter': 4}}}}
        runner_module.save_checkpoint(bigger, {str(path)!r})
    """
    assert _run_in_child(crash_while_saving, size + 10_000) == signal.SIGXFSZ
    reloaded = load_checkpoint_file(path)
    assert reloaded['meta'] == {'iter': 2}
    torch.testing.assert_close(reloaded['state_dict']['weight'], torch.arange(1000.0))
    assert [p.name for p in tmp_path.glob('*.pth')] == ['iter_2.pth']


def test_kill_during_pointer_write_keeps_previous_pointer(tmp_path):
    pointer = tmp_path / 'last_checkpoint'
    with checkpoint_hook_module.open(pointer, 'w') as handle:
        handle.write(str(tmp_path / 'iter_2.pth'))

    crash_while_pointing = f"""
        with checkpoint_hook_module.open({str(pointer)!r}, 'w') as handle:
            handle.write({str(tmp_path / 'iter_4.pth')!r})
    """
    assert _run_in_child(crash_while_pointing, 8) == signal.SIGXFSZ
    assert pointer.read_text() == str(tmp_path / 'iter_2.pth')


def test_failed_write_removes_its_temporary_file(tmp_path, monkeypatch):
    target = tmp_path / 'iter_2.pth'
    target.write_bytes(b'previous')

    def refuse_fsync(descriptor: int) -> None:
        raise OSError(28, 'No space left on device')

    monkeypatch.setattr(os, 'fsync', refuse_fsync)
    with pytest.raises(OSError, match='No space left'):
        atomic_write_bytes(b'new content', target)
    assert target.read_bytes() == b'previous'
    assert sorted(p.name for p in tmp_path.iterdir()) == ['iter_2.pth']
