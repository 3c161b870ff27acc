"""Checkpoint files: readable as the umask allows, and I/O errors naming the path.

Provokes: (1) a checkpoint written under umask 022 and 027 must get mode 0644
and 0640, as mmengine's own ``open()`` gives (``mkstemp`` alone leaves 0600,
unreadable by colleagues on a shared cluster); (2) a full disk, simulated by
a 64 KiB file-size limit (``RLIMIT_FSIZE``, the ``[Errno 27] File too large``
a user saw), must raise an error naming the checkpoint and keep the previous
file intact.
"""

from __future__ import annotations

import os
import stat
import subprocess
import sys
import textwrap

import pytest

from cxr_plugins.engine.checkpoint import atomic_write_bytes


@pytest.mark.parametrize(('umask', 'mode'), [(0o022, 0o644), (0o027, 0o640)])
def test_checkpoint_mode_follows_the_umask(tmp_path, umask, mode):
    previous = os.umask(umask)
    try:
        atomic_write_bytes(b'weights', tmp_path / 'epoch_1.pth')
    finally:
        os.umask(previous)
    assert stat.S_IMODE((tmp_path / 'epoch_1.pth').stat().st_mode) == mode


def test_full_disk_error_names_the_file_and_keeps_the_previous_one(tmp_path):
    target = tmp_path / 'epoch_2.pth'
    target.write_bytes(b'previous checkpoint')
    script = textwrap.dedent(
        f"""
        import resource, signal
        from cxr_plugins.engine.checkpoint import atomic_write_bytes
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        resource.setrlimit(resource.RLIMIT_FSIZE, (65536, 65536))
        atomic_write_bytes(bytes(1 << 20), {str(target)!r})
        """
    )
    result = subprocess.run(
        [sys.executable, '-c', script], capture_output=True, text=True, timeout=120
    )
    assert result.returncode != 0
    last_line = result.stderr.strip().splitlines()[-1]
    assert f'cannot write {target}' in last_line, result.stderr
    assert 'previous file kept' in last_line and 'File too large' in last_line
    assert target.read_bytes() == b'previous checkpoint'
    assert sorted(p.name for p in tmp_path.iterdir()) == ['epoch_2.pth']


def test_empty_checkpoint_names_the_file(tmp_path):
    """An empty ``.pth`` raised a bare ``EOFError`` from every loader."""
    from cxr_plugins.compat import load_checkpoint_file

    path = tmp_path / 'mae_pretrained.pth'
    path.write_bytes(b'')
    with pytest.raises(EOFError, match='mae_pretrained.pth: checkpoint file is empty'):
        load_checkpoint_file(path)
