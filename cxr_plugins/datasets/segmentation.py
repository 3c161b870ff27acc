"""Segmentation datasets for chest X-rays (mmseg ``DATASETS``).

* :class:`SIIMPneumothoraxDataset`: the SIIM-ACR pneumothorax challenge
  (https://www.kaggle.com/c/siim-acr-pneumothorax-segmentation) in mmseg's
  ``img_dir``/``ann_dir`` layout written by ``tools/data/prepare_siim.py``.
* :class:`CXRBinaryMaskDataset`: any CSV index of radiographs with binary
  masks (e.g. the V7 Labs lung masks of the ieee8023 COVID collection, Cohen et
  al., https://arxiv.org/abs/2006.11988), with a patient-level split.

Both reuse mmseg's ``BaseSegDataset``; only the index parsing is ours.
"""

from __future__ import annotations

import csv
from pathlib import Path

import cv2
from mmseg.datasets import BaseSegDataset
from mmseg.registry import DATASETS

from cxr_plugins.datasets.splits import SPLIT_NAMES, split_patients


@DATASETS.register_module()
class SIIMPneumothoraxDataset(BaseSegDataset):
    """SIIM-ACR pneumothorax masks (0 background / 1 pneumothorax).

    Each sample carries ``pneumothorax`` (bool), read from the ``meta.csv`` of
    ``prepare_siim.py`` when ``meta_file`` is given, else from the mask itself;
    :class:`~cxr_plugins.datasets.samplers.PositiveNegativeSampler` uses it.

    Args:
        meta_file: Optional CSV with ``ImageId`` and ``pneumothorax`` columns
            (relative to ``data_root``).
        **kwargs: Passed to ``BaseSegDataset`` (``data_root``, ``data_prefix``,
            ``ann_file`` with one ImageId per line, ``pipeline`` ...).
    """

    METAINFO = dict(
        classes=('background', 'pneumothorax'), palette=[[0, 0, 0], [255, 0, 0]]
    )

    def __init__(
        self,
        meta_file: str | None = None,
        img_suffix: str = '.png',
        seg_map_suffix: str = '.png',
        **kwargs,
    ) -> None:
        self.meta_file = meta_file
        super().__init__(
            img_suffix=img_suffix,
            seg_map_suffix=seg_map_suffix,
            reduce_zero_label=False,
            **kwargs,
        )

    def load_data_list(self) -> list[dict]:
        """Add the ``pneumothorax`` flag to every sample of the base list."""
        data_list = super().load_data_list()
        positives = self._read_meta() if self.meta_file else None
        for info in data_list:
            image_id = Path(info['img_path']).name[: -len(self.img_suffix)]
            if positives is None:
                mask = cv2.imread(info['seg_map_path'], cv2.IMREAD_UNCHANGED)
                if mask is None:
                    raise FileNotFoundError(f'cannot read mask {info["seg_map_path"]}')
                info['pneumothorax'] = bool(mask.any())
            elif image_id not in positives:
                raise KeyError(f'{self.meta_file}: no row for ImageId {image_id}')
            else:
                info['pneumothorax'] = positives[image_id]
        return data_list

    def _read_meta(self) -> dict[str, bool]:
        path = Path(self.data_root or '') / self.meta_file
        values = {'1': True, 'true': True, '0': False, 'false': False}
        positives = {}
        with open(path, newline='') as handle:
            reader = csv.DictReader(handle)
            missing = {'ImageId', 'pneumothorax'} - set(reader.fieldnames or ())
            if missing:
                raise KeyError(f'{path}: missing column(s) {sorted(missing)}')
            for line, row in enumerate(reader, start=2):
                value = row['pneumothorax'].strip().lower()
                if value not in values:
                    raise ValueError(
                        f'{path}, line {line}, column pneumothorax: '
                        f'{row["pneumothorax"]!r} is not 0/1/true/false'
                    )
                positives[row['ImageId']] = values[value]
        return positives


@DATASETS.register_module()
class CXRBinaryMaskDataset(BaseSegDataset):
    """Radiographs with one binary mask each, listed in a CSV index.

    Rows without a mask are excluded. Masks are read as they are (e.g. 0/255)
    and binarised by
    :class:`~cxr_plugins.datasets.transforms.mask_loading.LoadBinaryMask`.

    Args:
        index_file: CSV index, relative to ``data_root``.
        image_column: Column with the image path (relative to ``img_dir``).
        patient_column: Column with the patient id used by the split.
        mask_column: Column with the mask path (relative to ``data_root``);
            an empty cell means "no mask". If ``None``, the mask is
            ``mask_dir/<image stem><mask_suffix>`` when that file exists.
        img_dir: Folder joined before the image column's value.
        img_suffix: If given, replaces the suffix of the image column's value
            (e.g. the COVID collection lists ``.png`` names of converted
            ``.jpg`` files).
        mask_dir: Folder of masks, used when ``mask_column`` is ``None``.
        mask_suffix: Suffix of the mask files, used with ``mask_dir``.
        split: ``'train'``, ``'val'``, ``'test'`` or ``None`` (all rows).
        split_ratios: Train/val/test fractions of patients.
        split_seed: Seed of the patient-level hash split.
        classes: Class names; index 1 is the masked structure.
        **kwargs: Passed to ``BaseSegDataset``.
    """

    METAINFO = dict(classes=('background', 'lung'), palette=[[0, 0, 0], [0, 255, 0]])

    def __init__(
        self,
        index_file: str,
        image_column: str = 'image',
        patient_column: str = 'patientid',
        mask_column: str | None = 'lung_mask',
        img_dir: str = '',
        img_suffix: str | None = None,
        mask_dir: str = 'masks',
        mask_suffix: str = '.png',
        split: str | None = None,
        split_ratios: tuple[float, float, float] = (0.7, 0.15, 0.15),
        split_seed: int = 0,
        **kwargs,
    ) -> None:
        if split is not None and split not in SPLIT_NAMES:
            raise ValueError(
                f'split must be one of {SPLIT_NAMES} or None, got {split!r}'
            )
        self.index_file = index_file
        self.image_column = image_column
        self.patient_column = patient_column
        self.mask_column = mask_column
        self.img_dir = img_dir
        self.image_suffix = img_suffix
        self.mask_dir = mask_dir
        self.mask_suffix = mask_suffix
        self.split = split
        self.split_ratios = tuple(split_ratios)
        self.split_seed = split_seed
        super().__init__(reduce_zero_label=False, **kwargs)

    def load_data_list(self) -> list[dict]:
        """Rows with a mask, restricted to the patients of ``split``."""
        root = Path(self.data_root or '')
        index_path = root / self.index_file
        with open(index_path, newline='') as handle:
            rows = list(csv.DictReader(handle))
        for column in (self.image_column, self.patient_column, self.mask_column):
            if column is not None and rows and column not in rows[0]:
                raise KeyError(
                    f'{index_path}: no column {column!r} (columns: {list(rows[0])})'
                )
        samples = []
        for row in rows:
            image = Path(self.img_dir) / row[self.image_column]
            if self.image_suffix is not None:
                image = image.with_suffix(self.image_suffix)
            if self.mask_column is not None:
                mask_value = row[self.mask_column].strip()
                mask = root / mask_value if mask_value else None
            else:
                mask = root / self.mask_dir / f'{image.stem}{self.mask_suffix}'
                mask = mask if mask.is_file() else None
            if mask is None:
                continue
            samples.append((root / image, mask, row[self.patient_column].strip()))
        assignment = split_patients(
            [patient for _, _, patient in samples],
            dict(zip(SPLIT_NAMES, self.split_ratios)),
            self.split_seed,
        )
        return [
            dict(
                img_path=str(image),
                seg_map_path=str(mask),
                patient_id=patient,
                label_map=self.label_map,
                reduce_zero_label=False,
                seg_fields=[],
            )
            for image, mask, patient in samples
            if self.split is None or assignment[patient] == self.split
        ]
