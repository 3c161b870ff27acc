"""COVIDx (Wang et al., COVID-Net, https://arxiv.org/abs/2003.09871)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd
from mmpretrain.registry import DATASETS

from cxr_plugins.datasets.base import CXRBaseDataset, LabelTable
from cxr_plugins.datasets.tables import LabelTableError, check_unique

# EVA-X's class order for the two COVIDx 9 tasks.
COVIDX_3_CLASSES = ('normal', 'pneumonia', 'COVID-19')
COVIDX_2_CLASSES = ('negative', 'positive')


@DATASETS.register_module()
class COVIDx(CXRBaseDataset):
    """COVIDx 9A (3 classes) / 9B (binary), single-label.

    ``ann_file`` lines are ``<patient id> <file name> <label> <source>``
    (``train_COVIDx9A.txt`` etc.); images are ``data_prefix/<file name>``.

    Args:
        ann_file: See above.
        classes: Class names in label order. Defaults to
            :data:`COVIDX_3_CLASSES` (9A); use :data:`COVIDX_2_CLASSES` for 9B.
        **kwargs: See :class:`CXRBaseDataset`.
    """

    LABEL_SOURCE = 'covidx'

    def __init__(
        self, ann_file: str, classes: Sequence[str] = COVIDX_3_CLASSES, **kwargs
    ):
        self.label_names = tuple(classes)
        super().__init__(
            ann_file=ann_file, metainfo=dict(classes=self.label_names), **kwargs
        )

    def load_table(self, ann_file: str) -> LabelTable:
        path = Path(ann_file)
        if not path.is_file():
            raise FileNotFoundError(f'{path}: COVIDx list does not exist')
        try:
            fields = pd.read_csv(
                path,
                sep=r'\s+',
                header=None,
                dtype=str,
                names=range(5),
                skip_blank_lines=False,
            )
        except pd.errors.ParserError as err:
            raise LabelTableError(path, f'wrong number of fields ({err})') from err
        counts = fields.notna().sum(axis=1).to_numpy()
        bad = np.flatnonzero(counts != 4)
        if bad.size:
            row = int(bad[0])
            raise LabelTableError(
                path,
                'expected <patient> <file> <label> <source>, '
                f'found {counts[row]} field(s)',
                line=row + 1,
            )
        files = fields[1].to_numpy(dtype=str)
        check_unique(path, files, 'file')
        labels = pd.Index(self.label_names).get_indexer(fields[2])
        unknown = np.flatnonzero(labels < 0)
        if unknown.size:
            row = int(unknown[0])
            raise LabelTableError(
                path,
                f'label {fields[2].iat[row]!r} is not one of {list(self.label_names)}',
                line=row + 1,
                column='label',
            )
        return LabelTable(
            self.image_path(files),
            fields[0].to_numpy(dtype=str),
            labels.astype(np.int64),
        )
