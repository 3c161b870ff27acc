"""Class-per-folder chest X-ray sets (as used by MSMAE, https://arxiv.org/abs/2303.02364)."""

from __future__ import annotations

import logging
import os
import os.path as osp
from collections.abc import Sequence

import numpy as np
from mmengine.logging import print_log
from mmpretrain.registry import DATASETS

from cxr_plugins.datasets.base import CXRBaseDataset, LabelTable
from cxr_plugins.datasets.transforms.loading import IMAGE_SUFFIXES, is_image_file


def class_folders(root: str) -> list[str]:
    """Sorted sub-folder names of ``root`` (hidden ones ignored)."""
    if not osp.isdir(root):
        raise FileNotFoundError(f'{root}: split folder does not exist')
    return sorted(
        e.name for e in os.scandir(root) if e.is_dir() and not e.name.startswith('.')
    )


@DATASETS.register_module()
class CXRImageFolder(CXRBaseDataset):
    """``<data_root>/<split>/<class>/<image>``, single-label.

    One class list serves every split, so a label index means the same class
    in training and evaluation: ``classes`` from the config, or else the
    sorted folder names of the ``class_split`` folder (``train``). A split
    holding a folder outside that list is an error; a split missing one of
    the classes logs a warning (e.g. a test set without one class).

    There is no patient metadata in such a tree, so each image counts as its
    own patient (``patient_id`` = path relative to the split folder without
    suffix); ``fraction`` therefore samples images.

    Args:
        split: The split folder (``'train'``, ``'val'``, ``'test'``).
        classes: Class folder names in label order.
        class_split: The split folder whose sub-folders give the classes when
            ``classes`` is not set. Defaults to ``'train'``.
        **kwargs: See :class:`CXRBaseDataset` (no ``ann_file``, no
            ``patient_split``).
    """

    def __init__(
        self,
        split: str,
        classes: Sequence[str] | None = None,
        class_split: str = 'train',
        **kwargs,
    ):
        if kwargs.get('patient_split') is not None:
            raise ValueError(
                'CXRImageFolder has its own split folders; '
                'patient_split is not supported'
            )
        data_root = kwargs.get('data_root', '') or ''
        if classes is None:
            names = tuple(class_folders(osp.join(data_root, class_split)))
            if not names:
                raise FileNotFoundError(
                    f'{osp.join(data_root, class_split)}: no class folders to take '
                    'the classes from; set classes='
                )
        else:
            names = tuple(classes)
        self.class_split = class_split
        super().__init__(
            ann_file='', split=split, metainfo=dict(classes=names), **kwargs
        )

    def load_table(self, ann_file: str) -> LabelTable:
        root = osp.join(self.data_root or '', self.split)
        names = self.metainfo['classes']
        found = class_folders(root)
        extra = sorted(set(found) - set(names))
        if extra:
            raise ValueError(
                f'{root}: class folder(s) {extra} are not in the classes '
                f'{list(names)} (from the config or {self.class_split!r}); a '
                'separate class list per split would flip labels'
            )
        missing = [name for name in names if name not in found]
        if missing:
            print_log(
                f'{root}: no folder for class(es) {missing}; their label '
                'indices stay as in the class list',
                logger='current',
                level=logging.WARNING,
            )
        paths, labels = [], []
        for label, name in enumerate(names):
            if name in missing:
                continue
            folder = osp.join(root, name)
            files = sorted(
                f for f in os.listdir(folder) if is_image_file(osp.join(folder, f))
            )
            paths += [osp.join(folder, f) for f in files]
            labels += [label] * len(files)
        if not paths:
            raise FileNotFoundError(
                f'{root}: no images with suffix {IMAGE_SUFFIXES} (or DICOM content)'
            )
        patients = np.array([osp.splitext(osp.relpath(p, root))[0] for p in paths])
        return LabelTable(np.array(paths), patients, np.array(labels, dtype=np.int64))
