"""MIMIC-CXR-JPG (Johnson et al., 2019, https://arxiv.org/abs/1901.07042).

Image-only classification; image + report pairs for MRM live elsewhere.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd
from mmengine.logging import print_log
from mmpretrain.registry import DATASETS

from cxr_plugins.datasets.base import CXRBaseDataset, LabelTable
from cxr_plugins.datasets.chexpert import apply_uncertain_policy
from cxr_plugins.datasets.label_table import metadata_from_frame
from cxr_plugins.datasets.patient_ids import patient_column
from cxr_plugins.datasets.tables import (
    LabelTableError,
    check_unique,
    check_values,
    read_csv_table,
)

MIMIC_LABEL_COLUMNS = (
    'Atelectasis',
    'Cardiomegaly',
    'Consolidation',
    'Edema',
    'Enlarged Cardiomediastinum',
    'Fracture',
    'Lung Lesion',
    'Lung Opacity',
    'No Finding',
    'Pleural Effusion',
    'Pleural Other',
    'Pneumonia',
    'Pneumothorax',
    'Support Devices',
)
# The MIMIC MAE-ViT seed's abnormality columns: all but No Finding and
# Support Devices.
ABNORMALITY_COLUMNS = tuple(
    c for c in MIMIC_LABEL_COLUMNS if c not in ('No Finding', 'Support Devices')
)
MIMIC_SPLITS = {
    'train': 'train',
    'val': 'validate',
    'validate': 'validate',
    'test': 'test',
}


def abnormal_from_labels(frame: pd.DataFrame) -> np.ndarray:
    """1 where any of :data:`ABNORMALITY_COLUMNS` is an explicit 1.0, else 0.

    As in the MIMIC MAE-ViT seed, uncertain (-1) and blank count as normal.
    """
    values = frame[list(ABNORMALITY_COLUMNS)].apply(pd.to_numeric).to_numpy()
    return (values == 1.0).any(axis=1).astype(np.int64)


@DATASETS.register_module()
class MIMICCXR(CXRBaseDataset):
    """MIMIC-CXR-JPG from the official ``mimic-cxr-2.0.0-*.csv(.gz)`` tables.

    Images are ``<data_prefix>/p<subject[:2]>/p<subject>/s<study>/<dicom>.jpg``
    (``data_prefix`` is the ``files`` folder).

    Args:
        ann_file: ``mimic-cxr-2.0.0-split.csv(.gz)`` (dicom_id, study_id,
            subject_id, split); ``split='train'|'val'|'test'`` picks rows.
        metadata_file: ``mimic-cxr-2.0.0-metadata.csv(.gz)`` (``ViewPosition``).
        label_file: ``mimic-cxr-2.0.0-negbio.csv(.gz)`` or ``-chexpert``.
        task: ``'abnormal'`` (binary normal/abnormal, see
            :func:`abnormal_from_labels`) or ``'multilabel'``.
        classes: Label columns for ``task='multilabel'``.
        uncertain_policy: For ``task='multilabel'``, see
            :func:`~cxr_plugins.datasets.chexpert.resolve_uncertain_policy`.
        views: Keep these ``ViewPosition`` values. Defaults to ``('AP', 'PA')``.
        **kwargs: See :class:`CXRBaseDataset`.

    Studies without a row in ``label_file`` are dropped with a logged count
    (the official label tables do not cover every study).
    """

    LABEL_SOURCE = 'mimic_cxr'

    def __init__(
        self,
        ann_file: str,
        metadata_file: str,
        label_file: str,
        task: str = 'abnormal',
        classes: Sequence[str] = MIMIC_LABEL_COLUMNS,
        uncertain_policy: str | Mapping[str, str] = 'zeros',
        views: Sequence[str] = ('AP', 'PA'),
        **kwargs,
    ):
        if task not in ('abnormal', 'multilabel'):
            raise ValueError(f"task must be 'abnormal' or 'multilabel', got {task!r}")
        unknown = [name for name in classes if name not in MIMIC_LABEL_COLUMNS]
        if unknown:
            raise KeyError(f'unknown MIMIC-CXR label columns {unknown}')
        self.metadata_file = metadata_file
        self.label_file = label_file
        self.task = task
        self.label_names = tuple(classes)
        self.uncertain_policy = uncertain_policy
        self.views = tuple(views)
        names = ('normal', 'abnormal') if task == 'abnormal' else self.label_names
        super().__init__(ann_file=ann_file, metainfo=dict(classes=names), **kwargs)

    def load_table(self, ann_file: str) -> LabelTable:
        ids = {'dicom_id': str, 'study_id': str, 'subject_id': str}
        splits = read_csv_table(
            ann_file, ['dicom_id', 'study_id', 'subject_id', 'split'], dtype=ids
        )
        check_unique(
            ann_file, splits['dicom_id'].to_numpy(dtype=str), 'dicom_id', first_line=2
        )
        patient_column(ann_file, splits, 'subject_id')  # blank = error naming the row
        if self.split is not None and self.patient_split is None:
            if self.split not in MIMIC_SPLITS:
                raise ValueError(
                    f'{ann_file}: split={self.split!r} is not one of '
                    f'{list(MIMIC_SPLITS)}'
                )
            splits = splits[splits['split'] == MIMIC_SPLITS[self.split]]
        metadata_path = self.resolve(self.metadata_file)
        metadata = read_csv_table(
            metadata_path, ['dicom_id', 'ViewPosition'], dtype=ids
        )
        check_unique(
            metadata_path,
            metadata['dicom_id'].to_numpy(dtype=str),
            'dicom_id',
            first_line=2,
        )
        frame = splits.merge(
            metadata[['dicom_id', 'ViewPosition']],
            on='dicom_id',
            how='left',
            validate='one_to_one',
            indicator=True,
        )
        missing = (frame['_merge'] != 'both').to_numpy()
        if missing.any():
            raise LabelTableError(
                ann_file,
                f'{missing.sum()} dicom_id(s) absent from {metadata_path}, '
                f'e.g. {frame["dicom_id"].iat[int(np.flatnonzero(missing)[0])]!r}',
            )
        frame = frame[frame['ViewPosition'].isin(self.views)].drop(columns='_merge')
        label_path = self.resolve(self.label_file)
        label_columns = (
            ABNORMALITY_COLUMNS if self.task == 'abnormal' else self.label_names
        )
        labels = read_csv_table(
            label_path,
            ['subject_id', 'study_id', *label_columns],
            dtype={'subject_id': str, 'study_id': str},
        )
        check_values(
            label_path,
            labels,
            label_columns,
            allowed=(1.0, 0.0, -1.0),
            allow_blank=True,
        )
        duplicated = labels.duplicated(['subject_id', 'study_id']).to_numpy()
        if duplicated.any():
            row = int(np.flatnonzero(duplicated)[0])
            raise LabelTableError(
                label_path,
                f'duplicate study {labels["study_id"].iat[row]!r}',
                line=row + 2,
                column='study_id',
            )
        frame = frame.merge(labels, on=['subject_id', 'study_id'], how='inner')
        dropped = int((~splits['dicom_id'].isin(frame['dicom_id'])).sum())
        if dropped:
            print_log(
                f'{ann_file}: {dropped} image(s) dropped (view not in '
                f'{self.views} or study not in {label_path})',
                logger='current',
                level=logging.INFO,
            )
        if self.task == 'abnormal':
            targets = abnormal_from_labels(frame)
        else:
            targets = apply_uncertain_policy(
                label_path, frame, self.label_names, self.uncertain_policy
            )
        subject = frame['subject_id'].astype(str)
        relative = (
            'p'
            + subject.str[:2]
            + '/p'
            + subject
            + '/s'
            + frame['study_id'].astype(str)
            + '/'
            + frame['dicom_id']
            + '.jpg'
        )
        return LabelTable(
            self.image_path(relative.to_numpy(dtype=str)),
            subject.to_numpy(dtype=str),
            targets,
            metadata_from_frame(label_path, frame, dict(view='ViewPosition')),
        )
