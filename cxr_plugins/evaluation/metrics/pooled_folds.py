"""Pooled out-of-fold evaluation of a k-fold patient cross-fitting.

With a few hundred patients a single held-out split is small (the NIH demo's
60/20/20 split leaves 53 test patients and a +-10-point AUC interval). Under
k-fold cross-fitting every patient's images are predicted once, by the model
trained on the other folds; pooling those predictions evaluates all patients
with the patient-level bootstrap of :func:`evaluate_scores` (Hastie et al.,
"The Elements of Statistical Learning", 2nd ed., section 7.10; pooling assumes
the k models score on a comparable scale, which makes it slightly
conservative when they do not). mmengine evaluates one test set per run, so
the pooling of the per-fold ``predictions.csv`` files is written here.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np

from cxr_plugins.evaluation.metrics.clinical import (
    evaluate_scores,
    flat_metrics,
    format_tables,
)
from cxr_plugins.evaluation.metrics.comparison import read_prediction_table
from cxr_plugins.evaluation.metrics.multilabel_auc import (
    write_predictions_csv,
    write_result_json,
)


def evaluate_pooled_folds(
    fold_predictions: Sequence[str | os.PathLike],
    out_dir: str | os.PathLike,
    subset_classes: Sequence[str] = (),
    bootstrap: int = 1000,
    seed: int = 0,
    log: Callable[[str], None] = print,
) -> dict[str, float]:
    """Pool per-fold ``predictions.csv`` files and evaluate them as one test set.

    Args:
        fold_predictions: One ``predictions.csv`` per fold (``MultiLabelAUC``'s
            ``out_dir`` output), each with ``patient_id``.
        out_dir: Where the pooled ``predictions.csv`` and ``evaluation.json``
            go.
        subset_classes: Classes of the extra ``auc/mAUC_subset``.
        bootstrap: Patient-level bootstrap resamples.
        seed: Bootstrap seed.
        log: Where the tables go.

    Returns:
        mmengine-style metrics (``auc/mAUC``, CIs, per class, subset).

    Raises:
        ValueError: The files disagree on the classes, lack patient ids, or a
            patient (or image) appears in two folds: the folds leak.
    """
    tables = [read_prediction_table(path) for path in fold_predictions]
    if not tables:
        raise ValueError('evaluate_pooled_folds: no fold predictions given')
    first = tables[0]
    for table in tables:
        if table.names != first.names:
            raise ValueError(
                f'{table.path}: classes {table.names} differ from {first.path}: '
                f'{first.names}'
            )
        if table.patient_ids is None:
            raise ValueError(f'{table.path}: no patient_id column to pool by')
    owner: dict[str, int] = {}
    for index, table in enumerate(tables):
        for patient in dict.fromkeys(table.patient_ids.tolist()):
            first_index = owner.setdefault(patient, index)
            if first_index != index:
                raise ValueError(
                    f'patient {patient} is in fold file {first_index + 1} '
                    f'({tables[first_index].path}) and in fold file {index + 1} '
                    f'({table.path}): the folds are not patient-disjoint'
                )
    scores = np.concatenate([t.scores for t in tables])
    targets = np.concatenate([t.targets for t in tables])
    patients = np.concatenate([t.patient_ids for t in tables])
    images = np.concatenate([t.img_paths for t in tables])
    result = evaluate_scores(
        scores,
        targets,
        first.names,
        {'patient_id': patients.tolist()},
        bootstrap=bootstrap,
        seed=seed,
        subset_classes=subset_classes,
        log=log,
    )
    log(f'pooled {len(tables)} folds:\n' + format_tables(result))
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    write_predictions_csv(
        out / 'predictions.csv',
        images.tolist(),
        {'patient_id': patients.tolist()},
        first.names,
        scores,
        targets,
    )
    write_result_json(result, out)
    return {f'auc/{key}': value for key, value in flat_metrics(result).items()}
