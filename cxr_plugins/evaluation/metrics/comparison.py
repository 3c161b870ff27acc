"""Paired comparison of two models' ``predictions.csv`` on the same test set.

The files are what ``tools/test.py --out-dir`` writes through
:class:`~cxr_plugins.evaluation.metrics.MultiLabelAUC` (``img_path``, optional
``patient_id`` and metadata, ``prob_<class>``, ``gt_<class>``). Per class: the
AUC of each model, the difference with a paired bootstrap interval (both
models scored on the same resamples, patients resampled where the files carry
``patient_id``), DeLong's test (:mod:`~cxr_plugins.evaluation.metrics.delong`)
and Holm-adjusted p-values over the classes; the mean AUC difference gets the
bootstrap interval.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

import numpy as np
import pandas as pd

from cxr_plugins.evaluation.metrics.auc_math import (
    IGNORE_TARGET,
    auc_plan,
    check_binary_targets,
    iter_bootstrap_counts,
    patient_codes,
    per_class_auc,
    percentile_ci,
    planned_auc,
    resampled_mean,
    valid_resamples,
)
from cxr_plugins.evaluation.metrics.delong import delong_test, holm_adjust


@dataclass
class PredictionTable:
    """One ``predictions.csv``: rows in file order."""

    path: str
    img_paths: np.ndarray
    patient_ids: np.ndarray | None
    names: list[str]
    scores: np.ndarray
    targets: np.ndarray


def read_prediction_table(path: str | os.PathLike) -> PredictionTable:
    """Read a ``predictions.csv``; raise naming the file and missing columns."""
    frame = pd.read_csv(path, dtype={'img_path': str, 'patient_id': str})
    names = [c[len('prob_') :] for c in frame.columns if c.startswith('prob_')]
    if 'img_path' not in frame.columns or not names:
        raise KeyError(
            f'{path}: expected img_path and prob_<class> columns, got '
            f'{list(frame.columns)}'
        )
    missing = [f'gt_{n}' for n in names if f'gt_{n}' not in frame.columns]
    if missing:
        raise KeyError(f'{path}: missing column(s) {missing}')
    targets = frame[[f'gt_{n}' for n in names]].to_numpy(dtype=float)
    check_binary_targets(targets)
    return PredictionTable(
        path=str(path),
        img_paths=frame['img_path'].fillna('').to_numpy(dtype=str),
        patient_ids=frame['patient_id'].to_numpy(dtype=str)
        if 'patient_id' in frame.columns
        else None,
        names=names,
        scores=frame[[f'prob_{n}' for n in names]].to_numpy(dtype=float),
        targets=targets,
    )


def check_aligned(a: PredictionTable, b: PredictionTable) -> None:
    """Raise unless both files hold the same images, in the same order, with
    the same classes, labels and patient ids; the message names the first
    mismatch (row numbers count the header as line 1)."""
    if a.names != b.names:
        raise ValueError(
            f'class columns differ: {a.path} has {a.names}, {b.path} has {b.names}'
        )
    if len(a.img_paths) != len(b.img_paths):
        raise ValueError(
            f'row counts differ: {a.path} has {len(a.img_paths)}, {b.path} has '
            f'{len(b.img_paths)}'
        )
    differs = np.flatnonzero(a.img_paths != b.img_paths)
    if differs.size:
        row = differs[0]
        raise ValueError(
            f'first different image at line {row + 2}: {a.path} has '
            f'{a.img_paths[row]!r}, {b.path} has {b.img_paths[row]!r} (same images '
            'in the same order needed)'
        )
    mismatch = np.argwhere(a.targets != b.targets)
    if mismatch.size:
        row, column = mismatch[0]
        raise ValueError(
            f'labels differ at line {row + 2} ({a.img_paths[row]}), column '
            f'gt_{a.names[column]}: {a.targets[row, column]:g} in {a.path}, '
            f'{b.targets[row, column]:g} in {b.path}'
        )
    if a.patient_ids is not None and b.patient_ids is not None:
        differs = np.flatnonzero(a.patient_ids != b.patient_ids)
        if differs.size:
            row = differs[0]
            raise ValueError(
                f'patient_id differs at line {row + 2}: {a.patient_ids[row]!r} vs '
                f'{b.patient_ids[row]!r}'
            )


def compare_predictions(
    a: PredictionTable,
    b: PredictionTable,
    bootstrap: int = 1000,
    seed: int = 0,
    ci_level: float = 0.95,
) -> dict:
    """Per-class and mean AUC difference (a - b) with paired intervals and tests.

    Returns:
        ``names``, ``resample_unit``, per-class arrays ``auc_a``, ``auc_b``,
        ``difference``, ``low``, ``high``, ``valid`` (bootstrap), ``z``, ``p``,
        ``p_holm`` (DeLong), and ``mean`` with ``difference``, ``low``,
        ``high``, ``valid``.
    """
    check_aligned(a, b)
    patients = a.patient_ids if a.patient_ids is not None else b.patient_ids
    groups = None if patients is None else patient_codes(patients)
    num_images, num_classes = a.scores.shape
    auc_a, auc_b = (
        per_class_auc(a.scores, a.targets),
        per_class_auc(b.scores, b.targets),
    )
    defined = ~np.isnan(auc_a)
    z, p = np.full(num_classes, np.nan), np.full(num_classes, np.nan)
    for c in np.flatnonzero(defined):
        valid = a.targets[:, c] != IGNORE_TARGET
        test = delong_test(a.scores[valid, c], b.scores[valid, c], a.targets[valid, c])
        z[c], p[c] = test['z'], test['p']
    result = dict(
        names=a.names,
        num_images=num_images,
        num_patients=None if groups is None else int(groups.max()) + 1,
        resample_unit='image' if groups is None else 'patient',
        bootstrap=bootstrap,
        ci_level=ci_level,
        auc_a=auc_a,
        auc_b=auc_b,
        difference=auc_a - auc_b,
        z=z,
        p=p,
        p_holm=holm_adjust(p),
        mean=dict(difference=float(np.mean(auc_a[defined] - auc_b[defined]))),
    )
    if bootstrap:
        samples = np.full((bootstrap, num_classes), np.nan)
        plans = {
            c: (
                auc_plan(a.scores[:, c], a.targets[:, c]),
                auc_plan(b.scores[:, c], b.targets[:, c]),
            )
            for c in np.flatnonzero(defined)
        }
        for rows, counts in iter_bootstrap_counts(num_images, bootstrap, seed, groups):
            for c, (plan_a, plan_b) in plans.items():
                samples[rows, c] = planned_auc(plan_a, counts) - planned_auc(
                    plan_b, counts
                )
        result['low'], result['high'] = percentile_ci(samples, ci_level)
        result['valid'] = valid_resamples(samples)
        # Same rule as the single-model mean (resampled_mean's docstring).
        mean = resampled_mean(samples, defined, seed)
        low, high = percentile_ci(mean, ci_level)
        result['mean'].update(
            low=float(low), high=float(high), valid=int(valid_resamples(mean))
        )
    return result
