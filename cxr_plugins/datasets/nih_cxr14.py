"""NIH ChestX-ray14 (Wang et al., CVPR 2017, https://arxiv.org/abs/1705.02315)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
from mmpretrain.registry import DATASETS

from cxr_plugins.datasets.base import CXRBaseDataset, LabelTable
from cxr_plugins.datasets.label_table import metadata_from_frame
from cxr_plugins.datasets.patient_ids import nih_patient_from_name, patient_column
from cxr_plugins.datasets.tables import (
    LabelTableError,
    check_unique,
    locate,
    read_csv_table,
    read_id_list,
    read_split_file,
)

NIH_CLASSES = (
    'Atelectasis',
    'Cardiomegaly',
    'Effusion',
    'Infiltration',
    'Mass',
    'Nodule',
    'Pneumonia',
    'Pneumothorax',
    'Consolidation',
    'Edema',
    'Emphysema',
    'Fibrosis',
    'Pleural_Thickening',
    'Hernia',
)
NO_FINDING = 'No Finding'
#: Data_Entry columns carried into each sample (see label_table).
NIH_META = dict(sex='Patient Gender', age='Patient Age', view='View Position')
SPLIT_ALIASES = {'valid': 'val', 'validate': 'val', 'validation': 'val'}


def parse_finding_labels(path: str | Path, findings: np.ndarray) -> np.ndarray:
    """``'Cardiomegaly|Emphysema'`` strings -> float32 (N, 14) multi-hot.

    ``No Finding`` (alone) is the all-zero row; an unknown finding, an empty
    cell or ``No Finding`` combined with a finding raises
    :class:`LabelTableError` with the line (header = line 1). Only the few
    hundred distinct strings are parsed; rows are then gathered by code.
    """
    import pandas as pd

    codes, uniques = pd.factorize(pd.Series(findings, dtype=object))
    class_index = {name: i for i, name in enumerate(NIH_CLASSES)}
    unique_rows = np.zeros((len(uniques), len(NIH_CLASSES)), dtype=np.float32)
    for code, text in enumerate(uniques):
        names = [name.strip() for name in str(text).split('|')]
        problem = None
        if any(not name for name in names):
            problem = f'empty finding in {text!r}'
        elif NO_FINDING in names and len(names) > 1:
            problem = f'{NO_FINDING!r} combined with a finding in {text!r}'
        elif unknown := [n for n in names if n not in class_index and n != NO_FINDING]:
            problem = (
                f'unknown finding {unknown[0]!r}; expected {NO_FINDING!r} or '
                f'one of {list(NIH_CLASSES)}'
            )
        if problem:
            row = int(np.flatnonzero(codes == code)[0])
            raise LabelTableError(path, problem, line=row + 2, column='Finding Labels')
        unique_rows[code, [class_index[n] for n in names if n in class_index]] = 1
    if (codes < 0).any():
        row = int(np.flatnonzero(codes < 0)[0])
        raise LabelTableError(
            path, 'empty finding label', line=row + 2, column='Finding Labels'
        )
    return unique_rows[codes]


@DATASETS.register_module()
class NIHChestXray14(CXRBaseDataset):
    """NIH ChestX-ray14, 14 findings, multi-label (No Finding = all zeros).

    ``ann_file`` may be:

    * ``Data_Entry_2017*.csv(.gz)``: labels from ``Finding Labels``; restrict
      it with ``image_list`` (the official ``train_val_list.txt`` /
      ``test_list.txt``) or ``patient_split``;
    * the demo ``labels.csv`` (``path`` + ``split`` columns + the 14 findings,
      checked against ``Finding Labels``): ``split='train'|'val'|'test'`` uses its
      ``split`` column, which is NOT patient-disjoint; add ``patient_split`` for a
      seeded patient-level re-split;
    * a split file ``<png> <14 x 0/1>`` (medical_mae / EVA-X official lists,
      MRM random split incl. ``train_1``/``train_10``); patients come from the
      image names, or from ``data_entry`` when given (which also checks that
      every listed image exists in it).

    Images are ``data_prefix['img_path']/<name>`` (the demo CSV's ``path``
    column is relative to ``data_prefix`` too).

    Args:
        ann_file: See above.
        data_entry: Optional ``Data_Entry_2017*.csv(.gz)`` for a split file.
        image_list: Optional list of image names restricting a CSV.
        view_positions: Keep only these ``View Position`` values (CSV only),
            e.g. ``('PA',)``.
        **kwargs: See :class:`CXRBaseDataset` (``split``, ``patient_split``,
            ``fraction``, ``seed``, ``disjoint_from``, ``skip_bad_images``,
            ``data_root``, ``data_prefix``, ``pipeline``, ``test_mode``).
    """

    LABEL_SOURCE = 'nih'

    METAINFO = dict(classes=NIH_CLASSES)

    def __init__(
        self,
        ann_file: str,
        data_entry: str | None = None,
        image_list: str | None = None,
        view_positions: Sequence[str] | None = None,
        **kwargs,
    ):
        self.data_entry = data_entry
        self.image_list = image_list
        self.view_positions = tuple(view_positions) if view_positions else None
        super().__init__(ann_file=ann_file, **kwargs)

    def load_table(self, ann_file: str) -> LabelTable:
        if ann_file.endswith(('.csv', '.csv.gz', '.csv.zip')):
            return self._load_csv(ann_file)
        return self._load_split_file(ann_file)

    def _load_csv(self, ann_file: str) -> LabelTable:
        frame = read_csv_table(
            ann_file,
            ['Image Index', 'Finding Labels', 'Patient ID'],
            dtype={'Image Index': str, 'Patient ID': str},
        )
        names = frame['Image Index'].to_numpy(dtype=str)
        check_unique(ann_file, names, 'Image Index', first_line=2)
        labels = parse_finding_labels(ann_file, frame['Finding Labels'].to_numpy())
        self._check_class_columns(ann_file, frame, labels)
        keep = np.ones(len(frame), dtype=bool)
        if self.image_list is not None:
            list_path = self.resolve(self.image_list)
            listed = read_id_list(list_path)
            check_unique(list_path, listed, 'image')
            keep[:] = False
            keep[locate(list_path, listed, names, ann_file)] = True
        if self.split is not None and self.patient_split is None:
            keep &= self._split_column_mask(ann_file, frame)
        if self.view_positions is not None:
            if 'View Position' not in frame.columns:
                raise LabelTableError(
                    ann_file, "view_positions needs a 'View Position' column", line=1
                )
            keep &= frame['View Position'].isin(self.view_positions).to_numpy()
        files = frame['path'].to_numpy(dtype=str) if 'path' in frame else names
        table = LabelTable(
            self.image_path(files),
            patient_column(ann_file, frame, 'Patient ID'),
            labels,
            metadata_from_frame(
                ann_file,
                frame,
                {k: v for k, v in NIH_META.items() if v in frame.columns},
            ),
        )
        return table.select(keep)

    def _check_class_columns(self, ann_file: str, frame, labels: np.ndarray) -> None:
        present = [name for name in NIH_CLASSES if name in frame.columns]
        if not present:
            return
        if len(present) != len(NIH_CLASSES):
            missing = sorted(set(NIH_CLASSES) - set(present))
            raise LabelTableError(
                ann_file, f'missing class column(s) {missing}', line=1
            )
        columns = frame[list(NIH_CLASSES)].to_numpy()
        differs = columns != labels
        if differs.any():
            row, col = np.argwhere(differs)[0]
            raise LabelTableError(
                ann_file,
                f'value {str(columns[row, col])!r} disagrees with Finding '
                f'Labels {frame["Finding Labels"].iat[row]!r}',
                line=int(row) + 2,
                column=NIH_CLASSES[col],
            )

    def _split_column_mask(self, ann_file: str, frame) -> np.ndarray:
        if 'split' not in frame.columns:
            raise LabelTableError(
                ann_file,
                f'split={self.split!r} needs a split column; use '
                'image_list= or patient_split= for Data_Entry',
                line=1,
            )
        values = frame['split'].astype(str).replace(SPLIT_ALIASES)
        wanted = SPLIT_ALIASES.get(self.split, self.split)
        if wanted not in set(values):
            raise LabelTableError(
                ann_file,
                f'no row has split {self.split!r}; found {sorted(set(values))}',
                column='split',
            )
        return (values == wanted).to_numpy()

    def _load_split_file(self, ann_file: str) -> LabelTable:
        if self.split is not None and self.patient_split is None:
            raise ValueError(
                f'{ann_file}: a split file is one split already; '
                f'split={self.split!r} needs patient_split'
            )
        names, values = read_split_file(ann_file, len(NIH_CLASSES))
        check_unique(ann_file, names, 'image')
        if self.data_entry is None:
            patients = nih_patient_from_name(ann_file, names)
        else:
            entry_path = self.resolve(self.data_entry)
            entry = read_csv_table(
                entry_path,
                ['Image Index', 'Patient ID'],
                dtype={'Image Index': str, 'Patient ID': str},
            )
            rows = locate(
                ann_file, names, entry['Image Index'].to_numpy(dtype=str), entry_path
            )
            patients = patient_column(entry_path, entry, 'Patient ID')[rows]
        return LabelTable(self.image_path(names), patients, values.astype(np.float32))
