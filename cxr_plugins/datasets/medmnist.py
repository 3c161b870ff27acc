"""MedMNIST ``.npz`` chest X-ray sets (PneumoniaMNIST, ChestMNIST).

MedMNIST v2 (Yang et al., Scientific Data 2023) ships each dataset as one
``.npz`` of uint8 image arrays and labels per split, not as image files, so
neither the NIH CSV reader nor the image-folder reader applies. The arrays are
small (PneumoniaMNIST at 28 px: 4 MB), so they are held in memory and each
sample's ``img`` is produced directly: the pipeline starts after loading.
"""

from __future__ import annotations

import os.path as osp
from collections.abc import Sequence

import numpy as np
from mmpretrain.registry import DATASETS

from cxr_plugins.datasets.base import CXRBaseDataset, LabelTable

PNEUMONIAMNIST_CLASSES = ('pneumonia',)
SPLITS = ('train', 'val', 'test')


@DATASETS.register_module()
class MedMNIST(CXRBaseDataset):
    """One split of a MedMNIST ``.npz`` as a multi-label dataset.

    Binary sets (PneumoniaMNIST: 0 normal, 1 pneumonia) become one sigmoid
    output, so the multi-label head, masked BCE and the bootstrap
    :class:`MultiLabelAUC` serve them unchanged. There are no patient ids in
    MedMNIST: each image is its own patient, so ``fraction`` samples images.

    Args:
        ann_file: The ``.npz`` (relative to ``data_root``) with
            ``<split>_images`` (N, H, W) uint8 and ``<split>_labels`` (N, C).
        split: ``'train'``, ``'val'`` or ``'test'`` (MedMNIST's own splits).
        classes: Label names, one per label column.
        **kwargs: See :class:`CXRBaseDataset` (no ``patient_split``).
    """

    def __init__(
        self,
        ann_file: str,
        split: str,
        classes: Sequence[str] = PNEUMONIAMNIST_CLASSES,
        **kwargs,
    ):
        if split not in SPLITS:
            raise ValueError(f'MedMNIST: split={split!r} is not one of {SPLITS}')
        if kwargs.get('patient_split') is not None:
            raise ValueError(
                'MedMNIST has its own splits; patient_split is not supported'
            )
        if kwargs.get('disjoint_from'):
            raise ValueError(
                'MedMNIST splits are disjoint images; disjoint_from is moot'
            )
        self.images: np.ndarray | None = None
        super().__init__(
            ann_file=ann_file,
            split=split,
            metainfo=dict(classes=tuple(classes)),
            **kwargs,
        )

    def load_table(self, ann_file: str) -> LabelTable:
        if not osp.isfile(ann_file):
            raise FileNotFoundError(f'{ann_file}: MedMNIST .npz does not exist')
        with np.load(ann_file) as archive:
            for key in (f'{self.split}_images', f'{self.split}_labels'):
                if key not in archive:
                    raise KeyError(f'{ann_file}: no array {key!r} in {archive.files}')
            images = archive[f'{self.split}_images']
            labels = archive[f'{self.split}_labels']
        num_classes = len(self.metainfo['classes'])
        if images.ndim != 3 or images.dtype != np.uint8:
            raise ValueError(
                f'{ann_file}: {self.split}_images must be (N, H, W) uint8, got '
                f'{images.shape} {images.dtype}'
            )
        labels = labels.reshape(len(labels), -1)
        if labels.shape != (len(images), num_classes):
            raise ValueError(
                f'{ann_file}: {self.split}_labels has shape {labels.shape}, expected '
                f'({len(images)}, {num_classes}) for classes {self.metainfo["classes"]}'
            )
        bad = np.argwhere((labels != 0) & (labels != 1))
        if len(bad):
            row, column = bad[0]
            raise ValueError(
                f'{ann_file}: {self.split}_labels row {row} column {column} is '
                f'{labels[row, column]}, expected 0 or 1'
            )
        self.images = images
        # The name carries the array row so that a fraction subset still finds
        # its image: '<file>#<split>/<row>'.
        names = np.array(
            [f'{osp.basename(ann_file)}#{self.split}/{i}' for i in range(len(images))]
        )
        return LabelTable(names, names, labels.astype(np.float32))

    def get_data_info(self, idx: int) -> dict:
        """The data info of :class:`CXRBaseDataset` plus ``img`` (H, W, 3)."""
        info = super().get_data_info(idx)
        row = int(info['img_path'].rsplit('/', 1)[1])
        grey = self.images[row]
        info['img'] = np.repeat(grey[:, :, None], 3, axis=2)
        info['img_shape'] = info['ori_shape'] = grey.shape
        return info
