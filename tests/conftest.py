"""Shared pytest fixtures: where the real data lives, ports, registry scopes.

The segmentation fixtures (SIIM sample, tiny segmentation configs) live in
``seg_fixtures.py`` and are loaded as a plugin for every folder.
"""

from collections.abc import Iterator
from pathlib import Path

import pytest
from cxr_test_utils import REPO_ROOT
from cxr_test_utils import free_port as _free_port
from mmengine.registry import DefaultScope

pytest_plugins = ['seg_fixtures']

DEMO_DIR = REPO_ROOT / 'data' / 'demo'
SHARED_DATA_DIR = REPO_ROOT.parent / 'shared' / 'data'


@pytest.fixture(scope='session')
def repo_root() -> Path:
    """The repository root."""
    return REPO_ROOT


@pytest.fixture(scope='session')
def demo_dir() -> Path:
    """The embedded demo data (``data/demo``), committed with the project."""
    return DEMO_DIR


@pytest.fixture(scope='session')
def shared_data() -> Path:
    """``../shared/data``: real label files and images, never committed.

    CI runs with ``shared/`` beside the clone; a missing folder is an error,
    not a skip, so the real-data tests cannot silently disappear.
    """
    if not SHARED_DATA_DIR.is_dir():
        raise FileNotFoundError(
            f'{SHARED_DATA_DIR} not found: the tests read real label files '
            'from ../shared/data beside the repository.'
        )
    return SHARED_DATA_DIR


@pytest.fixture
def free_port() -> int:
    """A TCP port nobody listens on right now."""
    return _free_port()


@pytest.fixture(autouse=True)
def _no_leaked_default_scope() -> Iterator[None]:
    """Each test starts with the DefaultScope instances the previous one found.

    A Runner built by one test (e.g. ``default_scope='mmengine'``) would
    otherwise stay the process-wide current scope and change which registry
    later tests build from, so a test's result depended on the order.
    """
    before = DefaultScope._instance_dict.copy()
    yield
    DefaultScope._instance_dict.clear()
    DefaultScope._instance_dict.update(before)


@pytest.fixture
def mmpretrain_scope() -> Iterator[None]:
    """Build in mmpretrain's scope, whatever DefaultScope an earlier test left.

    mmengine keeps the latest DefaultScope process-wide; modules that build
    transforms or datasets outside a Runner pin theirs with
    ``pytestmark = pytest.mark.usefixtures('mmpretrain_scope')``.
    """
    with DefaultScope.overwrite_default_scope('mmpretrain'):
        yield


@pytest.fixture
def mmseg_scope() -> Iterator[None]:
    """Build in mmseg's scope (segmentation datasets built outside a Runner)."""
    with DefaultScope.overwrite_default_scope('mmseg'):
        yield
