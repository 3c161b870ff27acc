"""DeLong's test for two correlated ROC curves, fast algorithm.

DeLong, DeLong & Clarke-Pearson, "Comparing the areas under two or more
correlated receiver operating characteristic curves: a nonparametric
approach", Biometrics 1988: the AUCs of several scores on the same cases are
Mann-Whitney statistics whose covariance is estimated from the placement
values (structural components) ``V10`` (per positive: the fraction of
negatives it outranks, ties counting one half) and ``V01`` (per negative: the
fraction of positives that outrank it). Sun & Xu, "Fast Implementation of
DeLong's Algorithm for Comparing the Areas Under Correlated Receiver Operating
Characteristic Curves", IEEE Signal Processing Letters 2014, obtain both from
three mid-rank computations in ``O(N log N)`` instead of the ``O(m n)`` pair
table; this is that algorithm. It reproduces pROC's ``roc.test(method =
"delong")`` (Robin et al., BMC Bioinformatics 2011), checked in the tests.

sklearn and scipy have no DeLong test, and the PyPI packages that do are
unmaintained single-file scripts, so the dozen lines are written here (mid
ranks from ``scipy.stats.rankdata``). DeLong's variance treats cases as
independent: with several images per patient it is too small, which is why
``tools/analysis/compare_models.py`` reports a paired patient bootstrap
interval beside it.
"""

from __future__ import annotations

import numpy as np
from scipy.stats import norm, rankdata


def delong_covariance(
    scores: np.ndarray, labels: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """AUCs of ``K`` scores on the same cases and their DeLong covariance.

    Args:
        scores: ``(K, N)`` scores of ``K`` models (higher = more positive).
        labels: ``(N,)`` 0/1 labels.

    Returns:
        ``(K,)`` AUCs and the ``(K, K)`` covariance matrix.

    Raises:
        ValueError: Labels are not 0/1, one class is missing, or shapes differ.
    """
    scores = np.atleast_2d(np.asarray(scores, dtype=np.float64))
    labels = np.asarray(labels)
    if scores.shape[1] != labels.shape[0]:
        raise ValueError(
            f'DeLong: scores have shape {scores.shape} but labels {labels.shape}'
        )
    if not np.isin(labels, (0, 1)).all():
        raise ValueError('DeLong: labels must be 0/1')
    positive = labels == 1
    m, n = int(positive.sum()), int((~positive).sum())
    if m == 0 or n == 0:
        raise ValueError(f'DeLong: needs both classes, got {m} positive, {n} negative')
    x, y = scores[:, positive], scores[:, ~positive]
    rank_x = rankdata(x, axis=1)
    rank_y = rankdata(y, axis=1)
    rank_all = rankdata(np.concatenate([x, y], axis=1), axis=1)
    # Mid rank of a positive among all minus among positives = negatives below.
    v10 = (rank_all[:, :m] - rank_x) / n
    v01 = 1.0 - (rank_all[:, m:] - rank_y) / m
    aucs = v10.mean(axis=1)
    covariance = np.atleast_2d(np.cov(v10)) / m + np.atleast_2d(np.cov(v01)) / n
    return aucs, covariance


def delong_test(
    scores_a: np.ndarray, scores_b: np.ndarray, labels: np.ndarray
) -> dict[str, float]:
    """Two-sided DeLong test of ``AUC_a == AUC_b`` on paired scores.

    Returns:
        ``auc_a``, ``auc_b``, ``difference`` (a - b), its standard error
        ``se``, ``z`` and ``p`` (``p = 1`` and ``z = 0`` when the two score
        vectors give identical placements, i.e. zero variance and zero
        difference).
    """
    aucs, cov = delong_covariance(np.stack([scores_a, scores_b]), labels)
    difference = float(aucs[0] - aucs[1])
    variance = float(cov[0, 0] + cov[1, 1] - 2 * cov[0, 1])
    if variance <= 0:
        if abs(difference) > 0:
            raise ValueError('DeLong: zero variance with a non-zero AUC difference')
        z, p = 0.0, 1.0
    else:
        z = difference / np.sqrt(variance)
        p = float(2 * norm.sf(abs(z)))
    return dict(
        auc_a=float(aucs[0]),
        auc_b=float(aucs[1]),
        difference=difference,
        se=float(np.sqrt(max(variance, 0.0))),
        z=float(z),
        p=p,
    )


def holm_adjust(p_values: np.ndarray) -> np.ndarray:
    """Holm's step-down adjusted p-values (Holm, Scand. J. Statistics 1979).

    Controls the family-wise error rate over the classes tested, uniformly
    more powerful than Bonferroni. ``NaN`` entries are left out and stay
    ``NaN``. (statsmodels' ``multipletests`` does this too; it is not a
    dependency of this package, and the step-down is five lines.)
    """
    p_values = np.asarray(p_values, dtype=np.float64)
    adjusted = np.full_like(p_values, np.nan)
    tested = np.flatnonzero(~np.isnan(p_values))
    order = tested[np.argsort(p_values[tested], kind='stable')]
    count = order.size
    running = 0.0
    for step, index in enumerate(order):
        running = max(running, min(1.0, (count - step) * p_values[index]))
        adjusted[index] = running
    return adjusted
