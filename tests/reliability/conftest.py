"""Fixtures for the reliability tests: the helper module and a tiny image folder."""

import os
import socket
import sys
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
if str(HERE) not in sys.path:
    sys.path.insert(0, str(HERE))


@pytest.fixture(scope='session')
def tiny_images(tmp_path_factory) -> Path:
    """Twelve 32x32 PNGs in two class folders."""
    from reliability_parts import write_tiny_image_folder

    return write_tiny_image_folder(tmp_path_factory.mktemp('tiny_images'))


@pytest.fixture
def subprocess_env() -> dict:
    """Environment for training subprocesses: helper module importable, 1 thread."""
    env = dict(os.environ)
    env['PYTHONPATH'] = os.pathsep.join(
        filter(None, [str(HERE), env.get('PYTHONPATH')])
    )
    env['OMP_NUM_THREADS'] = '1'
    env['PYTHONUNBUFFERED'] = '1'
    return env


@pytest.fixture
def free_port() -> int:
    """A TCP port nobody listens on right now."""
    with socket.socket() as probe:
        probe.bind(('127.0.0.1', 0))
        return probe.getsockname()[1]
