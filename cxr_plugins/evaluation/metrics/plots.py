"""ROC-curve figures written by the classification metrics.

matplotlib's object API (``Figure``) is used so no global backend is set.
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
from matplotlib.figure import Figure
from sklearn.metrics import roc_auc_score, roc_curve


def safe_file_stem(name: str) -> str:
    """Class name as a file-name stem (``Pleural Effusion`` -> ``Pleural_Effusion``)."""
    return re.sub(r'[^A-Za-z0-9_.-]+', '_', name).strip('_') or 'class'


def save_roc_curves(
    scores: np.ndarray, targets: np.ndarray, names: list[str], out_dir: Path
) -> list[Path]:
    """One ``roc_<class>.png`` per class with a defined AUC.

    Args:
        scores: ``(N, C)`` probabilities.
        targets: ``(N, C)`` 0/1 targets, ``-1`` ignored.
        names: Class names.
        out_dir: Folder to write to.

    Returns:
        Paths of the written figures.
    """
    written = []
    for column, name in enumerate(names):
        valid = targets[:, column] != -1
        labels = targets[valid, column]
        if np.unique(labels).size < 2:
            continue
        fpr, tpr, _ = roc_curve(labels, scores[valid, column])
        auc = roc_auc_score(labels, scores[valid, column])
        fig = Figure(figsize=(4, 4), dpi=100)
        axis = fig.subplots()
        axis.plot(fpr, tpr, label=f'AUC = {auc:.3f}')
        axis.plot([0, 1], [0, 1], linestyle='--', color='grey', linewidth=0.8)
        axis.set(
            xlabel='False positive rate',
            ylabel='True positive rate',
            title=f'{name} (n={labels.size})',
            xlim=(0, 1),
            ylim=(0, 1),
        )
        axis.legend(loc='lower right')
        fig.tight_layout()
        path = out_dir / f'roc_{safe_file_stem(name)}.png'
        fig.savefig(path)
        written.append(path)
    return written
