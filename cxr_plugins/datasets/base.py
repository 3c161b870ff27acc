"""Shared base for the chest X-ray classification datasets.

Subclasses only parse their label files into a columnar :class:`LabelTable`
(vectorised pandas/numpy); this base adds what every dataset needs: a seeded
patient-level re-split, a seeded per-patient label fraction, a patient leakage
check against other split files, and the opt-in ``skip_bad_images`` policy.
The index stays columnar (fixed-width numpy str/number arrays, no Python
objects per image), so dataloader workers share it without copy-on-read growth
and a 200k-row table needs no per-row pickling; data infos are built on
access by :meth:`get_data_info`.
"""

from __future__ import annotations

import logging
import os
import os.path as osp
import tempfile
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
from mmengine.logging import print_log
from mmpretrain.datasets import BaseDataset

from cxr_plugins.datasets.leakage import assert_no_leakage
from cxr_plugins.datasets.splits import patient_fraction_mask, patient_split_mask
from cxr_plugins.datasets.transforms.loading import BadXRayImageError


def _compact_strings(values: np.ndarray) -> np.ndarray:
    values = np.asarray(values)
    if values.dtype.kind == 'S':
        return values
    try:
        return values.astype(str).astype(np.bytes_)
    except UnicodeEncodeError:
        return values.astype(str)


def _text(value) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


@dataclass
class LabelTable:
    """Columnar index of a dataset: one entry per image.

    Attributes:
        img_path: Image paths, str array (N,).
        patient_id: Patient ids, str array (N,).
        labels: Multi-label: float32 (N, C) with 1 positive, 0 negative and -1
            ignored (U-Ignore); single-label: int64 (N,) class indices.
        meta: Per-image metadata arrays (N,) by sample key (``sex``, ``age``,
            ``view``, ``site``; see :mod:`cxr_plugins.datasets.label_table`).
    """

    img_path: np.ndarray
    patient_id: np.ndarray
    labels: np.ndarray
    meta: dict[str, np.ndarray] = field(default_factory=dict)

    def __post_init__(self):
        # ASCII strings as 1-byte 'S' arrays: a quarter of numpy's 'U' size.
        self.img_path = _compact_strings(self.img_path)
        self.patient_id = _compact_strings(self.patient_id)
        self.meta = {
            key: values if values.dtype.kind == 'f' else _compact_strings(values)
            for key, values in self.meta.items()
        }

    @property
    def multi_label(self) -> bool:
        return self.labels.ndim == 2

    def select(self, mask: np.ndarray) -> LabelTable:
        return LabelTable(
            self.img_path[mask],
            self.patient_id[mask],
            self.labels[mask],
            {key: values[mask] for key, values in self.meta.items()},
        )

    def __len__(self) -> int:
        return len(self.img_path)

    def data_info(self, idx: int) -> dict:
        """mmpretrain data info of entry ``idx``: ``img_path``, ``patient_id``
        and the labels.

        Multi-label entries get ``gt_label`` (int64 indices of the positives)
        and ``gt_score`` (float32 multi-hot, -1 = ignored); single-label ones get
        ``gt_label`` (int). ``PackInputs`` puts both into the ``DataSample``.
        """
        info = dict(
            img_path=_text(self.img_path[idx]), patient_id=_text(self.patient_id[idx])
        )
        for key, values in self.meta.items():
            value = values[idx]
            info[key] = float(value) if values.dtype.kind == 'f' else _text(value)
        if self.multi_label:
            score = self.labels[idx].astype(np.float32)
            info['gt_score'] = score
            info['gt_label'] = np.flatnonzero(score == 1).astype(np.int64)
        else:
            info['gt_label'] = int(self.labels[idx])
        return info


class CXRBaseDataset(BaseDataset):
    """Base class: subclasses implement :meth:`load_table`.

    ``LABEL_SOURCE`` names the dataset's mapping onto the canonical findings
    (:data:`cxr_plugins.datasets.harmonise.SOURCE_MAPPINGS`).

    Args:
        ann_file: The label table or split file (relative to ``data_root``).
        split: Which split to keep: with ``patient_split`` one of its keys
            or a list of them (their union, e.g. the other folds of a k-fold
            split), otherwise interpreted by the subclass (a split column).
        patient_split: Ratios for a seeded patient-level re-split, e.g.
            ``dict(train=0.6, val=0.2, test=0.2)``; needs ``split``.
        stratify: Stratify ``patient_split`` by the labels (multi-label
            iterative stratification over patients, the default); ``False``
            gives the pure per-patient hash split, which never moves a patient
            when others are added (see :mod:`cxr_plugins.datasets.splits`).
        fraction: Keep this seeded fraction of the patients (label-efficiency
            experiments: 0.01, 0.1, 1.0).
        seed: Seed of ``patient_split`` and ``fraction``.
        disjoint_from: Other split files of the same dataset (same format);
            raises :class:`PatientLeakageError` if any shares a patient with
            this one.
        canonical_labels: Output labels over the canonical findings of
            :mod:`cxr_plugins.datasets.harmonise` instead of the dataset's own
            classes: ``True`` for the whole vocabulary, or a list (e.g. the
            findings two datasets share). A finding this dataset does not label
            is -1 (masked out of ``CXRMaskedBCELoss`` and the AUC), never 0.
        label_source: The mapping for ``canonical_labels``: a key of
            ``SOURCE_MAPPINGS``, a ``{label: [finding, ...]}`` dict, or
            ``None`` for the dataset's own (:attr:`LABEL_SOURCE`).
        skip_bad_images: In training (``test_mode=False``), replace a sample
            whose image cannot be read by another random one, and record it
            (see :meth:`bad_images`); evaluation always raises.
        **kwargs: Passed to mmpretrain's ``BaseDataset`` (``data_root``,
            ``data_prefix``, ``pipeline``, ``test_mode``, ...).
    """

    LABEL_SOURCE: str | None = None

    def __init__(
        self,
        ann_file: str = '',
        split: str | Sequence[str] | None = None,
        patient_split: Mapping[str, float] | None = None,
        stratify: bool = True,
        fraction: float = 1.0,
        seed: int = 0,
        disjoint_from: Sequence[str] = (),
        skip_bad_images: bool = False,
        canonical_labels: bool | Sequence[str] = False,
        label_source: str | Mapping[str, Sequence[str]] | None = None,
        **kwargs,
    ):
        if patient_split is not None and split is None:
            raise ValueError('patient_split needs split= (one of its keys)')
        if not isinstance(split, str | None) and patient_split is None:
            raise ValueError(f'split={split!r}: a list of splits needs patient_split')
        if not isinstance(split, str | None):
            split = list(split)
        if not 0.0 < fraction <= 1.0:
            raise ValueError(f'fraction must be in (0, 1], got {fraction}')
        self.split = split
        self.patient_split = dict(patient_split) if patient_split else None
        self.stratify = stratify
        self.fraction = fraction
        self.seed = seed
        self.disjoint_from = list(disjoint_from)
        self.skip_bad_images = skip_bad_images
        self.label_source = label_source or self.LABEL_SOURCE
        self.source_classes = tuple(
            (kwargs.get('metainfo') or {}).get('classes')
            or self.METAINFO.get('classes', ())
        )
        self.canonical_targets = None
        if canonical_labels:
            from cxr_plugins.datasets.harmonise import CANONICAL_FINDINGS

            self.canonical_targets = tuple(
                CANONICAL_FINDINGS if canonical_labels is True else canonical_labels
            )
            kwargs['metainfo'] = {
                **(kwargs.get('metainfo') or {}),
                'classes': self.canonical_targets,
            }
        self.bad_image_log = osp.join(
            tempfile.gettempdir(), f'cxr_bad_images_{uuid.uuid4().hex}.tsv'
        )
        super().__init__(ann_file=ann_file, **kwargs)

    def resolve(self, path: str) -> str:
        """A path relative to ``data_root`` (absolute paths unchanged)."""
        return path if osp.isabs(path) else osp.join(self.data_root or '', path)

    def image_path(self, name: np.ndarray) -> np.ndarray:
        """Join ``data_prefix['img_path']`` to image names (vectorised)."""
        prefix = self.data_prefix.get('img_path', '') or ''
        if not prefix:
            return np.asarray(name).astype(str)
        return np.char.add(osp.join(prefix, ''), np.asarray(name).astype(str))

    def load_table(self, ann_file: str) -> LabelTable:
        """Parse ``ann_file`` (already joined with ``data_root``)."""
        raise NotImplementedError

    def load_selected_table(self) -> LabelTable:
        """The table of ``ann_file`` after ``split``, leakage check and
        ``fraction``."""
        table = self.load_table(self.ann_file)
        if self.canonical_targets is not None:
            from cxr_plugins.datasets.harmonise import harmonise_labels

            table.labels = harmonise_labels(
                table.labels,
                self.source_classes,
                self.label_source,
                self.canonical_targets,
            )
        if self.patient_split is not None:
            table = table.select(
                patient_split_mask(
                    table.patient_id,
                    self.patient_split,
                    self.split,
                    self.seed,
                    labels=table.labels if self.stratify else None,
                )
            )
        for other in self.disjoint_from:
            other_table = self.load_table(self.resolve(other))
            assert_no_leakage(
                {
                    self.ann_file: table.patient_id,
                    self.resolve(other): other_table.patient_id,
                }
            )
        table = table.select(
            patient_fraction_mask(table.patient_id, self.fraction, self.seed)
        )
        if len(table.img_path) == 0:
            raise ValueError(
                f'{self.ann_file}: no images left after split='
                f'{self.split!r}, fraction={self.fraction}'
            )
        return table

    def load_data_list(self) -> list[dict]:
        """All data infos as a list (mmengine API; the dataset itself keeps
        the columnar table)."""
        table = self.load_selected_table()
        return [table.data_info(i) for i in range(len(table))]

    def full_init(self) -> None:
        """Load the columnar table (``serialize_data`` is moot: it is one set
        of numpy arrays already)."""
        if self._fully_initialized:
            return
        if self.filter_cfg:
            raise ValueError(
                f'{type(self).__name__} does not support filter_cfg; '
                'use split/fraction/view filters'
            )
        self.table = self.load_selected_table()
        if self._indices is not None:
            self.get_subset_(self._indices)
        self._fully_initialized = True

    def get_subset_(self, indices: int | Sequence[int]) -> None:
        """Keep the first (``int >= 0``), last (``int < 0``) or listed entries."""
        if isinstance(indices, int):
            rows = np.arange(len(self.table))
            rows = rows[:indices] if indices >= 0 else rows[indices:]
        else:
            rows = np.asarray(indices, dtype=np.int64)
        self.table = self.table.select(rows)

    def get_data_info(self, idx: int) -> dict:
        if not self._fully_initialized:
            self.full_init()
        info = self.table.data_info(idx)
        info['sample_idx'] = idx if idx >= 0 else len(self.table) + idx
        return info

    def __len__(self) -> int:
        if not self._fully_initialized:
            self.full_init()
        return len(self.table)

    def get_cat_ids(self, idx: int) -> list[int]:
        return np.atleast_1d(self.get_data_info(idx)['gt_label']).tolist()

    def __getitem__(self, idx: int) -> dict:
        if not self.skip_bad_images or self.test_mode:
            return super().__getitem__(idx)
        for _ in range(self.max_refetch + 1):
            try:
                return super().__getitem__(idx)
            except BadXRayImageError as err:
                self._record_bad_image(err)
                idx = self._rand_another()
        raise RuntimeError(
            f'{self.ann_file}: {self.max_refetch + 1} unreadable '
            'images in a row; see bad_images()'
        )

    def _record_bad_image(self, err: BadXRayImageError) -> None:
        # One O_APPEND write per line: safe across dataloader worker processes.
        line = f'{err.path}\t{err.reason}'.replace('\n', ' ') + '\n'
        fd = os.open(self.bad_image_log, os.O_WRONLY | os.O_CREAT | os.O_APPEND)
        try:
            os.write(fd, line.encode())
        finally:
            os.close(fd)
        print_log(
            f'skipped unreadable image {err}', logger='current', level=logging.WARNING
        )

    def bad_images(self) -> list[tuple[str, str]]:
        """``(path, reason)`` of every sample skipped since the last clear."""
        if not osp.isfile(self.bad_image_log):
            return []
        with open(self.bad_image_log) as handle:
            return [tuple(line.rstrip('\n').split('\t', 1)) for line in handle]

    def clear_bad_images(self) -> None:
        if osp.isfile(self.bad_image_log):
            os.remove(self.bad_image_log)
