"""Decision thresholds chosen on validation and applied at test.

A probability is turned into a decision at a threshold. Choosing it on the
test set makes sensitivity and specificity look better than they will be, so
the threshold is fitted on the validation split and saved to JSON, and the
test evaluation reads that file (fixed per-class thresholds shipped with the
model, as torchxrayvision's ``op_threshs``, Cohen et al., MIDL 2022). Two
rules:

* ``youden``: maximise Youden's J = sensitivity + specificity - 1
  (Youden, Cancer 1950), over sklearn's ``roc_curve`` thresholds;
* ``sensitivity``: the highest threshold whose sensitivity reaches a target
  (e.g. 0.95, a screening setting), so specificity is as high as that allows.

A decision is ``score >= threshold``. The file format::

    {"rule": "youden", "target": null, "fitted_on": "<where>",
     "thresholds": {"<class>": 0.37, ...}}

Written atomically (temporary file + rename).
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np
from sklearn.metrics import roc_curve

from cxr_plugins.evaluation.metrics.auc_math import IGNORE_TARGET

RULES = ('youden', 'sensitivity')
RATES = ('sensitivity', 'specificity', 'ppv', 'npv')


def check_rule(rule: str, target: float | None) -> None:
    """Raise for an unknown rule or a sensitivity target outside (0, 1]."""
    if rule not in RULES:
        raise ValueError(f'operating point rule {rule!r} unknown; choose from {RULES}')
    if rule == 'sensitivity' and (target is None or not 0 < target <= 1):
        raise ValueError(
            f'operating point rule "sensitivity" needs a target in (0, 1], got {target}'
        )


def choose_threshold(
    scores: np.ndarray, labels: np.ndarray, rule: str, target: float | None = None
) -> float:
    """Threshold of one class by ``rule``; ``NaN`` if the class is undefined.

    Args:
        scores: ``(N,)`` probabilities.
        labels: ``(N,)`` 0/1, ``-1`` ignored.
        rule: ``'youden'`` or ``'sensitivity'``.
        target: Sensitivity to reach for the ``'sensitivity'`` rule.
    """
    check_rule(rule, target)
    valid = labels != IGNORE_TARGET
    truth = labels[valid]
    if np.unique(truth).size < 2:
        return float('nan')
    fpr, tpr, thresholds = roc_curve(truth, scores[valid], drop_intermediate=False)
    # roc_curve's first threshold is +inf (nothing positive); never choose it.
    fpr, tpr, thresholds = fpr[1:], tpr[1:], thresholds[1:]
    if rule == 'youden':
        best = int(np.argmax(tpr - fpr))
    else:
        best = int(np.flatnonzero(tpr >= target - 1e-12)[0])
    return float(thresholds[best])


def rate_indicators(
    scores: np.ndarray, labels: np.ndarray, threshold: float
) -> np.ndarray:
    """``(N, 4)`` 0/1 indicators of TP, FN, TN, FP for one class at ``threshold``.

    A ``NaN`` threshold (class undefined on validation) gives ``NaN`` rows, so
    every rate of that class is undefined rather than a misleading 0 / 100 %.
    """
    if np.isnan(threshold):
        return np.full((scores.shape[0], 4), np.nan, dtype=np.float32)
    positive = scores >= threshold
    return np.stack(
        [
            (labels == 1) & positive,
            (labels == 1) & ~positive,
            (labels == 0) & ~positive,
            (labels == 0) & positive,
        ],
        axis=1,
    ).astype(np.float32)


def rates_from_counts(confusion: np.ndarray) -> np.ndarray:
    """Sensitivity, specificity, PPV, NPV from ``(..., 4)`` TP, FN, TN, FP.

    Returns:
        ``(..., 4)`` rates, ``NaN`` where a denominator is zero.
    """
    tp, fn, tn, fp = np.moveaxis(confusion.astype(np.float64), -1, 0)
    with np.errstate(invalid='ignore', divide='ignore'):
        return np.stack(
            [tp / (tp + fn), tn / (tn + fp), tp / (tp + fp), tn / (tn + fn)], axis=-1
        )


def save_thresholds(
    path: str | os.PathLike,
    names: list[str],
    thresholds: np.ndarray,
    rule: str,
    target: float | None,
    fitted_on: str,
) -> None:
    """Write the thresholds JSON atomically (temporary file, then rename)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    payload = dict(
        rule=rule,
        target=target,
        fitted_on=fitted_on,
        thresholds={
            name: None if np.isnan(value) else float(value)
            for name, value in zip(names, thresholds)
        },
    )
    temporary = path.with_name(f'.{path.name}.tmp')
    temporary.write_text(json.dumps(payload, indent=2) + '\n')
    os.replace(temporary, path)


def load_thresholds(path: str | os.PathLike, names: list[str]) -> dict:
    """Read a thresholds JSON and order it by ``names``.

    Returns:
        The payload with ``thresholds`` as a ``(C,)`` array (``NaN`` where the
        class was undefined on validation).

    Raises:
        FileNotFoundError: ``path`` does not exist.
        KeyError: The file lacks a key or a class of ``names``.
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f'operating-point thresholds file {path} not found')
    payload = json.loads(path.read_text())
    for key in ('rule', 'thresholds'):
        if key not in payload:
            raise KeyError(f'{path}: no "{key}" key')
    missing = [name for name in names if name not in payload['thresholds']]
    if missing:
        raise KeyError(
            f'{path}: no threshold for class(es) {missing}; it has '
            f'{sorted(payload["thresholds"])}'
        )
    payload['thresholds'] = np.array(
        [
            np.nan if payload['thresholds'][n] is None else payload['thresholds'][n]
            for n in names
        ],
        dtype=np.float64,
    )
    return payload
