"""RSNA Pneumonia Detection Challenge (Shih et al., Radiology: AI 2019,
https://doi.org/10.1148/ryai.2019180041), as a binary classification task."""

from __future__ import annotations

from pathlib import PurePosixPath

import numpy as np
import pandas as pd
from mmpretrain.registry import DATASETS

from cxr_plugins.datasets.base import CXRBaseDataset, LabelTable
from cxr_plugins.datasets.patient_ids import patient_column
from cxr_plugins.datasets.tables import (
    LabelTableError,
    check_unique,
    read_csv_table,
    read_split_file,
)

RSNA_CLASSES = ('normal', 'pneumonia')


def targets_per_patient(path: str, frame: pd.DataFrame) -> pd.Series:
    """One ``Target`` per ``patientId`` from the box table (one row per box).

    Every row of a patient must carry the same 0/1 ``Target``.
    """
    target = pd.to_numeric(frame['Target'], errors='coerce')
    bad = ~target.isin([0, 1]).to_numpy()
    if bad.any():
        row = int(np.flatnonzero(bad)[0])
        value = str(frame['Target'].iat[row])
        raise LabelTableError(
            path, f'Target {value!r} is not 0 or 1', line=row + 2, column='Target'
        )
    grouped = target.groupby(frame['patientId'], sort=False)
    mixed = grouped.nunique() > 1
    if mixed.any():
        patient = mixed.index[mixed.to_numpy()][0]
        row = int(np.flatnonzero((frame['patientId'] == patient).to_numpy())[0])
        raise LabelTableError(
            path,
            f'patient {patient!r} has both Target 0 and 1',
            line=row + 2,
            column='Target',
        )
    return grouped.first().astype(np.int64)


@DATASETS.register_module()
class RSNAPneumonia(CXRBaseDataset):
    """RSNA Pneumonia, binary (0 normal / 1 pneumonia), DICOM images.

    ``ann_file`` is ``stage_2_train_labels.csv(.zip)`` (``patientId, x, y,
    width, height, Target``; images ``data_prefix/<patientId>.dcm``), or an MRM
    split file ``stage_2_train_images/<id>.dcm <0/1>`` (paths relative to
    ``data_prefix``). The patient id is the image id.

    Args:
        ann_file: See above.
        **kwargs: See :class:`CXRBaseDataset`.
    """

    LABEL_SOURCE = 'rsna'

    METAINFO = dict(classes=RSNA_CLASSES)

    def load_table(self, ann_file: str) -> LabelTable:
        if ann_file.endswith(('.csv', '.csv.gz', '.csv.zip', '.zip')):
            frame = read_csv_table(
                ann_file, ['patientId', 'Target'], dtype={'patientId': str}
            )
            # a blank patientId would vanish from the groupby: an error instead
            patient_column(ann_file, frame, 'patientId')
            targets = targets_per_patient(ann_file, frame)
            patients = targets.index.to_numpy(dtype=str)
            files = np.char.add(patients, '.dcm')
            return LabelTable(self.image_path(files), patients, targets.to_numpy())
        files, values = read_split_file(ann_file, 1)
        check_unique(ann_file, files, 'image')
        patients = np.array([PurePosixPath(f).stem for f in files.tolist()])
        return LabelTable(self.image_path(files), patients, values[:, 0])
