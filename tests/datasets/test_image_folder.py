"""CXRImageFolder: one class list for all splits, so labels cannot flip."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from cxr_plugins.datasets import CXRImageFolder


def make_tree(root, layout):
    for split, classes in layout.items():
        for name in classes:
            (root / split / name).mkdir(parents=True)
            Image.fromarray(np.full((8, 8), 9, np.uint8)).save(
                root / split / name / 'x.png'
            )


def labels(dataset):
    return [dataset.get_data_info(i)['gt_label'] for i in range(len(dataset))]


def test_test_split_with_one_class_keeps_the_training_index(tmp_path):
    """The issue's flip: a test split holding only pneumonia/ used to get
    label 0, which means normal in training."""
    make_tree(tmp_path, dict(train=['normal', 'pneumonia'], test=['pneumonia']))
    train = CXRImageFolder(data_root=str(tmp_path), split='train')
    test = CXRImageFolder(data_root=str(tmp_path), split='test')
    assert test.metainfo['classes'] == train.metainfo['classes']
    assert labels(test) == [1]
    # the config's list wins over the folders
    fixed = CXRImageFolder(
        data_root=str(tmp_path), split='test', classes=['pneumonia', 'normal']
    )
    assert labels(fixed) == [0]


def test_unknown_class_folder_in_another_split_is_an_error(tmp_path):
    make_tree(tmp_path, dict(train=['normal', 'pneumonia'], val=['covid', 'normal']))
    with pytest.raises(ValueError, match=r"val: class folder\(s\) \['covid'\]"):
        CXRImageFolder(data_root=str(tmp_path), split='val').full_init()


def test_missing_class_is_a_warning(tmp_path, monkeypatch):
    import cxr_plugins.datasets.image_folder as module

    logged = []
    monkeypatch.setattr(
        module, 'print_log', lambda msg, **kw: logged.append(kw and msg)
    )
    make_tree(tmp_path, dict(train=['normal', 'pneumonia'], val=['normal']))
    dataset = CXRImageFolder(data_root=str(tmp_path), split='val')
    dataset.full_init()
    assert labels(dataset) == [0]
    assert any("no folder for class(es) ['pneumonia']" in m for m in logged)
