"""Build transforms in mmpretrain's scope, whatever scope an earlier test left."""

import pytest
from mmengine.registry import DefaultScope


@pytest.fixture(autouse=True)
def mmpretrain_scope():
    """mmengine keeps the latest DefaultScope process-wide; pin ours."""
    with DefaultScope.overwrite_default_scope('mmpretrain'):
        yield
