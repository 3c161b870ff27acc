"""A process killed while writing a checkpoint leaves the last good one intact.

Provokes: a forked child saves a good checkpoint through the function mmengine's
Runner calls, then lowers ``RLIMIT_FSIZE`` below the next checkpoint's size and
saves again: the kernel kills it with SIGXFSZ in the middle of the write, as a
full disk or a kill would. Without the atomic writer the final file name would
hold the truncated bytes; with it the previous checkpoint loads and no partial
file carries a final name. The same is checked for the ``last_checkpoint``
pointer written by mmengine's CheckpointHook.
"""

import os
import resource
import signal

import mmengine.hooks.checkpoint_hook as checkpoint_hook_module
import mmengine.runner.runner as runner_module
import pytest
import torch

from cxr_plugins.compat import load_checkpoint_file
from cxr_plugins.engine.checkpoint_io import atomic_write_bytes


def _run_in_child(action) -> int:
    """Fork, run ``action`` in the child, return the signal that ended it (or 0)."""
    pid = os.fork()
    if pid == 0:
        try:
            action()
        finally:
            os._exit(0)
    _, status = os.waitpid(pid, 0)
    return os.WTERMSIG(status) if os.WIFSIGNALED(status) else 0


def _limit_file_size(limit: int) -> None:
    signal.signal(signal.SIGXFSZ, signal.SIG_DFL)
    resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))


def test_kill_during_checkpoint_write_keeps_previous_checkpoint(tmp_path):
    path = tmp_path / 'iter_2.pth'
    good = {'state_dict': {'weight': torch.arange(1000.0)}, 'meta': {'iter': 2}}
    runner_module.save_checkpoint(good, str(path))
    size = path.stat().st_size

    def crash_while_saving() -> None:
        bigger = {'state_dict': {'weight': torch.zeros(50_000)}, 'meta': {'iter': 4}}
        _limit_file_size(size + 10_000)
        runner_module.save_checkpoint(bigger, str(path))

    assert _run_in_child(crash_while_saving) == signal.SIGXFSZ
    reloaded = load_checkpoint_file(path)
    assert reloaded['meta'] == {'iter': 2}
    torch.testing.assert_close(reloaded['state_dict']['weight'], torch.arange(1000.0))
    assert [p.name for p in tmp_path.glob('*.pth')] == ['iter_2.pth']


def test_kill_during_pointer_write_keeps_previous_pointer(tmp_path):
    pointer = tmp_path / 'last_checkpoint'
    with checkpoint_hook_module.open(pointer, 'w') as handle:
        handle.write(str(tmp_path / 'iter_2.pth'))

    def crash_while_pointing() -> None:
        _limit_file_size(8)
        with checkpoint_hook_module.open(pointer, 'w') as handle:
            handle.write(str(tmp_path / 'iter_4.pth'))

    assert _run_in_child(crash_while_pointing) == signal.SIGXFSZ
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
