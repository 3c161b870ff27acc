"""Fixtures of the engine tests: a tiny image folder, subprocess environment.

``reliability_parts`` (tiny models, hooks and configs that provoke faults)
sits in ``tests/``, on the test path (pyproject ``pythonpath``); training
subprocesses reach it through ``PYTHONPATH``.
"""

import os
from pathlib import Path

import pytest
from cxr_test_utils import REPO_ROOT

TESTS_DIR = REPO_ROOT / 'tests'


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
        filter(None, [str(TESTS_DIR), env.get('PYTHONPATH')])
    )
    env['OMP_NUM_THREADS'] = '1'
    env['PYTHONUNBUFFERED'] = '1'
    return env
