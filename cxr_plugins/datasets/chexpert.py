"""CheXpert (Irvin et al., AAAI 2019, https://arxiv.org/abs/1901.07031)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd
from mmpretrain.registry import DATASETS

from cxr_plugins.datasets.base import CXRBaseDataset, LabelTable
from cxr_plugins.datasets.label_table import (
    metadata_from_frame,
    parse_label_columns,
    resolve_uncertain_policy,
)
from cxr_plugins.datasets.patient_ids import chexpert_patient_from_path
from cxr_plugins.datasets.tables import (
    LabelTableError,
    check_unique,
    read_csv_table,
    read_split_file,
)

CHEXPERT_CLASSES = (
    'No Finding',
    'Enlarged Cardiomediastinum',
    'Cardiomegaly',
    'Lung Opacity',
    'Lung Lesion',
    'Edema',
    'Consolidation',
    'Pneumonia',
    'Atelectasis',
    'Pneumothorax',
    'Pleural Effusion',
    'Pleural Other',
    'Fracture',
    'Support Devices',
)
# The 5 competition tasks in the column order of the MRM split files.
CHEXPERT_COMPETITION_CLASSES = (
    'Atelectasis',
    'Cardiomegaly',
    'Consolidation',
    'Edema',
    'Pleural Effusion',
)
#: CheXpert CSV columns carried into each sample (see label_table).
CHEXPERT_META = dict(sex='Sex', age='Age', view='AP/PA')
# medical_mae / EVA-X: U-Ones for Edema and Atelectasis, U-Zeros for the rest.
SEED_UNCERTAIN_POLICY = dict(default='zeros', Atelectasis='ones', Edema='ones')


def default_uncertain_policy(classes: Sequence[str]) -> dict[str, str]:
    """The seeds' policy restricted to ``classes`` (any subset is valid)."""
    return {
        name: value
        for name, value in SEED_UNCERTAIN_POLICY.items()
        if name == 'default' or name in classes
    }


def apply_uncertain_policy(
    path: str,
    frame: pd.DataFrame,
    classes: Sequence[str],
    policy: str | Mapping[str, str],
) -> np.ndarray:
    """CheXpert-style 1.0 / 0.0 / -1.0 / blank columns -> float32 (N, C).

    Blank means "not mentioned" and becomes 0; -1 (uncertain) becomes the
    class's policy value; any other value raises :class:`LabelTableError`.
    """
    return parse_label_columns(path, frame, classes, policy, blank='zeros')


@DATASETS.register_module()
class CheXpert(CXRBaseDataset):
    """CheXpert v1.0 / v1.0-small, multi-label with an uncertainty policy.

    ``ann_file`` is the official ``train.csv`` / ``valid.csv`` (``Path`` is
    relative to ``data_prefix``, i.e. the folder holding
    ``CheXpert-v1.0-small/``), or an MRM split file ``<path> <5 x 0/1>`` whose
    columns are :data:`CHEXPERT_COMPETITION_CLASSES`.

    Args:
        ann_file: See above.
        classes: Selected label columns, in output order. Defaults to the 5
            competition tasks; :data:`CHEXPERT_CLASSES` gives all 14.
        uncertain_policy: See :func:`resolve_uncertain_policy`. Defaults to
            the seeds' U-Ones for Edema and Atelectasis, U-Zeros otherwise,
            for whichever of them ``classes`` holds.
        frontal_only: Keep only ``Frontal/Lateral == 'Frontal'`` (CSV) or
            ``*_frontal.jpg`` (split files).
        **kwargs: See :class:`CXRBaseDataset`.
    """

    LABEL_SOURCE = 'chexpert'

    def __init__(
        self,
        ann_file: str,
        classes: Sequence[str] = CHEXPERT_COMPETITION_CLASSES,
        uncertain_policy: str | Mapping[str, str] | None = None,
        frontal_only: bool = False,
        **kwargs,
    ):
        unknown = [name for name in classes if name not in CHEXPERT_CLASSES]
        if unknown:
            raise KeyError(
                f'unknown CheXpert classes {unknown}; expected a subset '
                f'of {list(CHEXPERT_CLASSES)}'
            )
        if uncertain_policy is None:
            uncertain_policy = default_uncertain_policy(classes)
        resolve_uncertain_policy(uncertain_policy, classes)
        self.label_names = tuple(classes)
        self.uncertain_policy = uncertain_policy
        self.frontal_only = frontal_only
        super().__init__(
            ann_file=ann_file, metainfo=dict(classes=self.label_names), **kwargs
        )

    def load_table(self, ann_file: str) -> LabelTable:
        if ann_file.endswith(('.csv', '.csv.gz', '.csv.zip')):
            return self._load_csv(ann_file)
        return self._load_split_file(ann_file)

    def _load_csv(self, ann_file: str) -> LabelTable:
        frame = read_csv_table(
            ann_file,
            ['Path', 'Frontal/Lateral', *self.label_names],
            dtype={'Path': str},
        )
        paths = frame['Path'].to_numpy(dtype=str)
        check_unique(ann_file, paths, 'Path', first_line=2)
        labels = apply_uncertain_policy(
            ann_file, frame, self.label_names, self.uncertain_policy
        )
        table = LabelTable(
            self.image_path(paths),
            chexpert_patient_from_path(ann_file, paths, 2),
            labels,
            metadata_from_frame(
                ann_file,
                frame,
                {k: v for k, v in CHEXPERT_META.items() if v in frame.columns},
            ),
        )
        if self.frontal_only:
            views = frame['Frontal/Lateral']
            bad = ~views.isin(['Frontal', 'Lateral']).to_numpy()
            if bad.any():
                row = int(np.flatnonzero(bad)[0])
                raise LabelTableError(
                    ann_file,
                    f"value {views.iat[row]!r} is not 'Frontal' or 'Lateral'",
                    line=row + 2,
                    column='Frontal/Lateral',
                )
            table = table.select((views == 'Frontal').to_numpy())
        return table

    def _load_split_file(self, ann_file: str) -> LabelTable:
        if set(self.label_names) - set(CHEXPERT_COMPETITION_CLASSES):
            raise ValueError(
                f'{ann_file}: split files carry only '
                f'{list(CHEXPERT_COMPETITION_CLASSES)}; got classes '
                f'{list(self.label_names)}'
            )
        paths, values = read_split_file(ann_file, len(CHEXPERT_COMPETITION_CLASSES))
        check_unique(ann_file, paths, 'path')
        columns = [CHEXPERT_COMPETITION_CLASSES.index(n) for n in self.label_names]
        table = LabelTable(
            self.image_path(paths),
            chexpert_patient_from_path(ann_file, paths, 1),
            values[:, columns].astype(np.float32),
        )
        if self.frontal_only:
            table = table.select(np.char.endswith(paths, '_frontal.jpg'))
        return table
