"""Class-per-folder chest X-ray sets (as used by MSMAE, https://arxiv.org/abs/2303.02364)."""

from __future__ import annotations

import os
import os.path as osp
from collections.abc import Sequence

import numpy as np
from mmpretrain.registry import DATASETS

from cxr_plugins.datasets.base import CXRBaseDataset, LabelTable

IMAGE_SUFFIXES = ('.png', '.jpg', '.jpeg', '.dcm', '.dicom', '.bmp', '.tif', '.tiff')


@DATASETS.register_module()
class CXRImageFolder(CXRBaseDataset):
    """``<data_root>/<split>/<class>/<image>``, single-label.

    There is no patient metadata in such a tree, so each image counts as its
    own patient (``patient_id`` = path relative to the split folder without
    suffix); ``fraction`` therefore samples images.

    Args:
        split: The split folder (``'train'``, ``'val'``, ``'test'``).
        classes: Class folder names in label order; defaults to the sorted
            folder names. A folder not in ``classes`` raises.
        **kwargs: See :class:`CXRBaseDataset` (no ``ann_file``, no
            ``patient_split``).
    """

    def __init__(self, split: str, classes: Sequence[str] | None = None, **kwargs):
        if kwargs.get('patient_split') is not None:
            raise ValueError(
                'CXRImageFolder has its own split folders; '
                'patient_split is not supported'
            )
        self.folder_classes = tuple(classes) if classes is not None else None
        root = osp.join(kwargs.get('data_root', '') or '', split)
        if not osp.isdir(root):
            raise FileNotFoundError(f'{root}: split folder does not exist')
        found = sorted(e.name for e in os.scandir(root) if e.is_dir())
        names = self.folder_classes or tuple(found)
        super().__init__(
            ann_file='', split=split, metainfo=dict(classes=names), **kwargs
        )

    def load_table(self, ann_file: str) -> LabelTable:
        root = osp.join(self.data_root or '', self.split)
        names = self.metainfo['classes']
        found = sorted(e.name for e in os.scandir(root) if e.is_dir())
        extra = sorted(set(found) - set(names))
        if extra:
            raise ValueError(
                f'{root}: class folder(s) {extra} are not in classes {list(names)}'
            )
        paths, labels = [], []
        for label, name in enumerate(names):
            folder = osp.join(root, name)
            if not osp.isdir(folder):
                raise FileNotFoundError(f'{folder}: class folder does not exist')
            files = sorted(
                f for f in os.listdir(folder) if f.lower().endswith(IMAGE_SUFFIXES)
            )
            paths += [osp.join(folder, f) for f in files]
            labels += [label] * len(files)
        if not paths:
            raise FileNotFoundError(f'{root}: no images with suffix {IMAGE_SUFFIXES}')
        paths_array = np.array(paths)
        patients = np.array([osp.splitext(osp.relpath(p, root))[0] for p in paths])
        return LabelTable(paths_array, patients, np.array(labels, dtype=np.int64))
