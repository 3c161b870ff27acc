"""A classification dataset from any labelled table (CSV / TSV / parquet).

The request users of every CXR repository make most: "how do I train on my own
images and labels". :class:`CXRLabelTable` reads one table with an image-path
column, a patient column and label columns named by the user, and gives each
sample the metadata that subgroup evaluation needs. The label parsing pieces
(uncertain policies, value checks, metadata columns) are shared with the
CheXpert and MIMIC-CXR presets.

Metadata keys (the contract with the subgroup metrics and the patient-level
bootstrap): every sample's data info carries ``patient_id`` and, when the
table has them, ``sex``, ``age`` (float, NaN when blank), ``view`` and
``site``. They reach ``DataSample.metainfo`` through ``PackInputs(meta_keys=
CXR_META_KEYS)`` in the dataset base configs.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np
import pandas as pd
from mmengine.logging import print_log
from mmpretrain.registry import DATASETS

from cxr_plugins.datasets.base import CXRBaseDataset, LabelTable
from cxr_plugins.datasets.patient_ids import patient_column
from cxr_plugins.datasets.tables import LabelTableError, check_unique, check_values

#: Sample meta keys shared by all datasets (see the module docstring).
METADATA_KEYS = ('sex', 'age', 'view', 'site')
#: What ``PackInputs`` must keep for subgroup evaluation.
CXR_META_KEYS = (
    'sample_idx',
    'img_path',
    'ori_shape',
    'img_shape',
    'patient_id',
    *METADATA_KEYS,
)
UNCERTAIN_VALUES = {'ones': 1.0, 'zeros': 0.0, 'ignore': -1.0}
SPLIT_ALIASES = {'valid': 'val', 'validate': 'val', 'validation': 'val'}


def resolve_uncertain_policy(
    policy: str | Mapping[str, str], classes: Sequence[str]
) -> np.ndarray:
    """Per-class value that replaces an uncertain (-1) label.

    Args:
        policy: ``'ones'`` (U-Ones), ``'zeros'`` (U-Zeros) or ``'ignore'``
            (U-Ignore: -1, masked out by the loss) for every class, or a dict
            ``{class: policy}`` with an optional ``'default'`` entry for the
            classes it does not name.
        classes: The selected classes.

    Returns:
        float32 (C,) of 1, 0 or -1.
    """
    if isinstance(policy, str):
        policy = dict(default=policy)
    unknown = set(policy) - set(classes) - {'default'}
    if unknown:
        raise KeyError(
            f'uncertain_policy names {sorted(unknown)}, not among '
            f'the classes {list(classes)}'
        )
    values = []
    for name in classes:
        if name not in policy and 'default' not in policy:
            raise KeyError(f'uncertain_policy has no entry (or default) for {name!r}')
        choice = policy.get(name, policy.get('default'))
        if choice not in UNCERTAIN_VALUES:
            raise ValueError(
                f'uncertain_policy[{name!r}]={choice!r}; expected one '
                f'of {list(UNCERTAIN_VALUES)}'
            )
        values.append(UNCERTAIN_VALUES[choice])
    return np.asarray(values, dtype=np.float32)


def parse_label_columns(
    path: str | Path,
    frame: pd.DataFrame,
    classes: Sequence[str],
    uncertain_policy: str | Mapping[str, str] | None = None,
    blank: str = 'error',
    first_line: int = 2,
) -> np.ndarray:
    """0/1 (and optionally -1 / blank) label columns -> float32 (N, C).

    Args:
        path: The table (for error messages).
        frame: Its rows.
        classes: Label columns, in output order.
        uncertain_policy: How -1 (uncertain) is replaced, see
            :func:`resolve_uncertain_policy`; ``None``: -1 is an error.
        blank: A blank cell is ``'error'``, ``'zeros'`` (CheXpert: "not
            mentioned") or ``'ignore'`` (-1, masked out by the loss).
    """
    if blank not in ('error', 'zeros', 'ignore'):
        raise ValueError(f"blank must be 'error', 'zeros' or 'ignore', got {blank!r}")
    allowed = (1.0, 0.0, -1.0) if uncertain_policy is not None else (1.0, 0.0)
    check_values(
        path,
        frame,
        list(classes),
        allowed=allowed,
        allow_blank=blank != 'error',
        first_line=first_line,
    )
    raw = frame[list(classes)].apply(pd.to_numeric).to_numpy(dtype=np.float32)
    labels = np.nan_to_num(raw, nan=0.0 if blank == 'zeros' else -2.0)
    if uncertain_policy is not None:
        replacement = resolve_uncertain_policy(uncertain_policy, classes)
        labels = np.where(labels == -1.0, replacement[None, :], labels)
    return np.where(labels == -2.0, -1.0, labels).astype(np.float32)


def metadata_from_frame(
    path: str | Path, frame: pd.DataFrame, columns: Mapping[str, str]
) -> dict[str, np.ndarray]:
    """``{meta key: column}`` -> ``{meta key: values}``; ``age`` as float
    (blank -> NaN, a non-number is an error), the rest as stripped str."""
    missing = [c for c in columns.values() if c not in frame.columns]
    if missing:
        raise LabelTableError(
            path, f'metadata column(s) {missing} not found in {list(frame.columns)}'
        )
    meta = {}
    for key, column in columns.items():
        values = frame[column]
        if key == 'age':
            numbers = pd.to_numeric(values, errors='coerce')
            bad = (numbers.isna() & values.notna()).to_numpy()
            if bad.any():
                row = int(np.flatnonzero(bad)[0])
                raise LabelTableError(
                    path,
                    f'age {values.iat[row]!r} is not a number',
                    line=row + 2,
                    column=column,
                )
            meta[key] = numbers.to_numpy(dtype=np.float32)
        else:
            meta[key] = values.astype('string').fillna('').str.strip().to_numpy(str)
    return meta


def read_any_table(path: str | Path, required: Sequence[str]) -> pd.DataFrame:
    """Read ``.csv(.gz)``, ``.tsv`` / ``.txt`` (tab) or ``.parquet``; check
    columns. Every column is read as text so ids keep their leading zeros."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f'{path}: label table does not exist')
    name = path.name.lower()
    try:
        if name.endswith('.parquet'):
            frame = pd.read_parquet(path)
        else:
            sep = '\t' if name.endswith(('.tsv', '.tsv.gz', '.txt')) else ','
            frame = pd.read_csv(path, sep=sep, dtype=str, keep_default_na=True)
    except (pd.errors.ParserError, UnicodeDecodeError, ValueError, OSError) as err:
        raise LabelTableError(path, f'cannot read as a table ({err})') from err
    missing = [c for c in required if c not in frame.columns]
    if missing:
        raise LabelTableError(
            path, f'missing column(s) {missing}; found {list(frame.columns)}', line=1
        )
    # parquet keeps '' where a CSV reader gives NaN: one notion of blank
    return frame.replace(r'^\s*$', np.nan, regex=True)


def split_column_mask(
    path: str | Path, frame: pd.DataFrame, column: str, split: str
) -> np.ndarray:
    """Rows whose ``column`` equals ``split`` (``valid``/``validation`` = ``val``)."""
    values = frame[column].astype(str).str.strip().replace(SPLIT_ALIASES)
    wanted = SPLIT_ALIASES.get(split, split)
    if wanted not in set(values):
        raise LabelTableError(
            path,
            f'no row has split {split!r}; found {sorted(set(values))}',
            column=column,
        )
    return (values == wanted).to_numpy()


def filter_mask(
    path: str | Path, frame: pd.DataFrame, filters: Mapping[str, Sequence]
) -> np.ndarray:
    """Rows whose every ``filters`` column holds one of the allowed values."""
    keep = np.ones(len(frame), dtype=bool)
    for column, allowed in filters.items():
        if column not in frame.columns:
            raise LabelTableError(path, f'filter column {column!r} not found', line=1)
        allowed = [str(v) for v in allowed]
        keep &= frame[column].astype(str).str.strip().isin(allowed).to_numpy()
    return keep


@DATASETS.register_module()
class CXRLabelTable(CXRBaseDataset):
    """Any table of images and labels, multi-label or single-label.

    Multi-label: ``classes`` name 0/1 columns (optionally -1 = uncertain, see
    ``uncertain_policy``, and blank cells, see ``blank``). Single-label: give
    ``label_column``, whose values are the ``classes`` names (or their
    0-based indices).

    Each sample's data info has ``img_path``, ``patient_id``, the labels and
    the ``meta_columns`` under their keys: use ``sex``, ``age``, ``view`` and
    ``site`` for the subgroup metrics (``PackInputs(meta_keys=CXR_META_KEYS)``
    puts them into ``DataSample.metainfo``).

    Args:
        ann_file: ``.csv``, ``.csv.gz``, ``.tsv`` or ``.parquet`` (relative to
            ``data_root``).
        classes: Label columns (multi-label) or class names (single-label).
        path_column: Image path column, relative to ``data_prefix['img_path']``.
        patient_column: Patient id column; a blank id is an error naming the
            row. ``None``: each image is its own patient (logged).
        label_column: Single-label mode: the column holding the class.
        uncertain_policy: -1 handling for any subset of ``classes``
            (``'ones'``/``'zeros'``/``'ignore'`` or a per-class dict with
            ``'default'``); ``None``: -1 is an error.
        blank: Blank label cells: ``'error'``, ``'zeros'`` or ``'ignore'``.
        split_column: Column holding ``train``/``val``/``test`` (``valid``
            accepted); used when ``split`` is set and ``patient_split`` is
            not. Without it, set ``patient_split`` for a seeded, stratified
            patient split.
        filters: ``{column: allowed values}``, e.g. ``dict(view=['PA', 'AP'])``.
        meta_columns: ``{meta key: column}``, e.g. ``dict(sex='Sex',
            age='Age', view='View', site='Hospital')``.
        **kwargs: See :class:`CXRBaseDataset` (``split``, ``patient_split``,
            ``stratify``, ``fraction``, ``seed``, ``data_root``,
            ``data_prefix``, ``pipeline``, ...).
    """

    def __init__(
        self,
        ann_file: str,
        classes: Sequence[str],
        path_column: str = 'path',
        patient_column: str | None = 'patient',
        label_column: str | None = None,
        uncertain_policy: str | Mapping[str, str] | None = None,
        blank: str = 'error',
        split_column: str | None = None,
        filters: Mapping[str, Sequence] | None = None,
        meta_columns: Mapping[str, str] | None = None,
        **kwargs,
    ):
        if not classes:
            raise ValueError('CXRLabelTable needs classes (label columns or names)')
        if uncertain_policy is not None and label_column is None:
            resolve_uncertain_policy(uncertain_policy, classes)
        self.label_names = tuple(classes)
        self.path_column = path_column
        self.patient_column = patient_column
        self.label_column = label_column
        self.uncertain_policy = uncertain_policy
        self.blank = blank
        self.split_column = split_column
        self.filters = dict(filters or {})
        self.meta_columns = dict(meta_columns or {})
        super().__init__(
            ann_file=ann_file, metainfo=dict(classes=self.label_names), **kwargs
        )

    def load_table(self, ann_file: str) -> LabelTable:
        label_columns = (
            [self.label_column] if self.label_column else list(self.label_names)
        )
        required = [self.path_column, *label_columns]
        if self.patient_column:
            required.append(self.patient_column)
        if self.split_column:
            required.append(self.split_column)
        frame = read_any_table(ann_file, required).reset_index(drop=True)
        paths = patient_column(ann_file, frame, self.path_column, what='image path')
        check_unique(ann_file, paths, self.path_column, first_line=2)
        if self.label_column:
            labels = self._single_labels(ann_file, frame)
        else:
            labels = parse_label_columns(
                ann_file, frame, self.label_names, self.uncertain_policy, self.blank
            )
        if self.patient_column:
            patients = patient_column(ann_file, frame, self.patient_column)
        else:
            print_log(
                f'{ann_file}: patient_column=None, each image is its own patient',
                logger='current',
                level=logging.WARNING,
            )
            patients = paths
        keep = filter_mask(ann_file, frame, self.filters)
        if self.split is not None and self.patient_split is None:
            if not self.split_column:
                raise ValueError(
                    f'{ann_file}: split={self.split!r} needs split_column or '
                    'patient_split'
                )
            keep &= split_column_mask(ann_file, frame, self.split_column, self.split)
        table = LabelTable(
            self.image_path(paths),
            patients,
            labels,
            metadata_from_frame(ann_file, frame, self.meta_columns),
        )
        return table.select(keep)

    def _single_labels(self, ann_file: str, frame: pd.DataFrame) -> np.ndarray:
        values = frame[self.label_column].astype('string').str.strip()
        by_name = pd.Index(self.label_names).get_indexer(values.fillna(''))
        numbers = pd.to_numeric(values, errors='coerce')
        by_index = numbers.where(numbers.between(0, len(self.label_names) - 1))
        labels = np.where(by_name >= 0, by_name, by_index.fillna(-1).to_numpy())
        bad = labels < 0
        if bad.any():
            row = int(np.flatnonzero(bad)[0])
            raise LabelTableError(
                ann_file,
                f'label {values.iat[row]!r} is not one of {list(self.label_names)} '
                'or their index',
                line=row + 2,
                column=self.label_column,
            )
        return labels.astype(np.int64)
