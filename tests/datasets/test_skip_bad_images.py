"""skip_bad_images: a training set replaces and records unreadable images."""

import logging
from types import SimpleNamespace

import numpy as np
import pytest

from cxr_plugins.datasets import CXRImageFolder
from cxr_plugins.datasets.transforms import BadXRayImageError
from cxr_plugins.engine.hooks import CXRBadImageReportHook

PIPELINE = [dict(type='LoadXRayImage'), dict(type='PackInputs')]


def broken_index(dataset) -> int:
    paths = [dataset.get_data_info(i)['img_path'] for i in range(len(dataset))]
    return next(i for i, p in enumerate(paths) if p.endswith('broken.png'))


@pytest.fixture
def folder_with_bad_image(tmp_path, write_image):
    (tmp_path / 'train' / 'normal').mkdir(parents=True)
    for name in ('a.png', 'b.png', 'c.png'):
        write_image(f'train/normal/{name}', np.full((8, 8), 90, np.uint8))
    (tmp_path / 'train' / 'normal' / 'broken.png').write_bytes(b'')
    return tmp_path


def test_default_raises(folder_with_bad_image):
    dataset = CXRImageFolder(
        data_root=str(folder_with_bad_image), split='train', pipeline=PIPELINE
    )
    with pytest.raises(BadXRayImageError, match='broken.png: file is empty'):
        dataset[broken_index(dataset)]


def test_skip_records_and_hook_reports(folder_with_bad_image):
    dataset = CXRImageFolder(
        data_root=str(folder_with_bad_image),
        split='train',
        pipeline=PIPELINE,
        skip_bad_images=True,
    )
    np.random.seed(0)
    for _ in range(3):
        sample = dataset[broken_index(dataset)]
        assert not sample['data_samples'].img_path.endswith('broken.png')
    bad = dataset.bad_images()
    assert len(bad) == 3
    assert bad[0][0].endswith('broken.png') and 'empty' in bad[0][1]
    messages = []
    runner = SimpleNamespace(
        epoch=1,
        train_dataloader=SimpleNamespace(dataset=dataset),
        logger=SimpleNamespace(log=lambda level, msg: messages.append((level, msg))),
    )
    CXRBadImageReportHook().after_train_epoch(runner)
    assert messages[0][0] == logging.WARNING
    assert '3 unreadable image(s)' in messages[0][1] and 'broken.png' in messages[0][1]
    assert dataset.bad_images() == []


def test_evaluation_never_skips(folder_with_bad_image):
    dataset = CXRImageFolder(
        data_root=str(folder_with_bad_image),
        split='train',
        pipeline=PIPELINE,
        skip_bad_images=True,
        test_mode=True,
    )
    with pytest.raises(BadXRayImageError):
        dataset[broken_index(dataset)]
