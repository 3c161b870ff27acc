"""Expected calibration error and reliability-diagram bins, per class.

Binning: ``num_bins`` equal-width bins of the predicted probability on
``[0, 1]`` (the last bin closed), the estimator of Naeini et al. (AAAI 2015)
and Guo et al. ("On Calibration of Modern Neural Networks", ICML 2017):
``ECE = sum_b (n_b / n) |mean(y in b) - mean(p in b)|``. Each class of a
multi-label task is a binary problem scored on its own probability (the
sigmoid output), ignored entries (``-1``) left out. sklearn's
``calibration_curve`` gives the per-bin means but not the counts the ECE
weights need, so the binning is done here (a few lines of ``bincount``).
"""

from __future__ import annotations

import numpy as np

from cxr_plugins.evaluation.metrics.auc_math import IGNORE_TARGET

DEFAULT_BINS = 10


def reliability_bins(
    scores: np.ndarray, labels: np.ndarray, num_bins: int = DEFAULT_BINS
) -> dict[str, np.ndarray]:
    """Per-bin count, mean probability and observed positive rate of one class.

    Args:
        scores: ``(N,)`` probabilities in ``[0, 1]``.
        labels: ``(N,)`` 0/1, ``-1`` ignored.
        num_bins: Number of equal-width bins.

    Returns:
        ``count``, ``confidence`` (mean probability) and ``frequency``
        (fraction of positives), each ``(num_bins,)``; ``NaN`` for empty bins.
    """
    valid = labels != IGNORE_TARGET
    probability = np.clip(scores[valid], 0.0, 1.0)
    truth = labels[valid].astype(np.float64)
    index = np.minimum((probability * num_bins).astype(int), num_bins - 1)
    count = np.bincount(index, minlength=num_bins).astype(np.float64)
    with np.errstate(invalid='ignore', divide='ignore'):
        confidence = np.bincount(index, probability, num_bins) / count
        frequency = np.bincount(index, truth, num_bins) / count
    return dict(count=count, confidence=confidence, frequency=frequency)


def expected_calibration_error(
    scores: np.ndarray, labels: np.ndarray, num_bins: int = DEFAULT_BINS
) -> float:
    """ECE of one class (equal-width bins); ``NaN`` with no valid entry."""
    bins = reliability_bins(scores, labels, num_bins)
    total = bins['count'].sum()
    if total == 0:
        return float('nan')
    filled = bins['count'] > 0
    gaps = np.abs(bins['frequency'][filled] - bins['confidence'][filled])
    return float((bins['count'][filled] * gaps).sum() / total)
