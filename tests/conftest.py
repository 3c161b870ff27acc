"""Shared pytest fixtures: where the real data lives."""

from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[1]
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
