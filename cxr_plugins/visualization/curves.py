"""ROC / PR / reliability figures, ROC overviews and training curves.

``predictions.csv`` is what ``MultiLabelAUC(out_dir=...)`` writes
(``img_path, [patient_id, metadata,] prob_<class>..., gt_<class>...``); the
metrics write one ROC PNG per class with :func:`save_roc_curves` and
:func:`roc_overview` draws all classes in one figure. The HTML report uses the
small-multiple grids (:func:`roc_grid`, :func:`pr_grid`,
:func:`reliability_grid`, :func:`dice_histogram`). Training curves read
mmengine's ``vis_data/scalars.json`` (one JSON object per logging step).
matplotlib's object API is used so no global backend is touched.
"""

from __future__ import annotations

import json
import os
import re
from collections import defaultdict
from pathlib import Path

import numpy as np
from matplotlib.figure import Figure
from sklearn.metrics import (
    average_precision_score,
    precision_recall_curve,
    roc_auc_score,
    roc_curve,
)

#: Logged timings that are not training curves.
TIMING_SERIES = ('time', 'data_time')
MAX_COLUMNS = 4


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


def _grid(count: int, panel: float = 2.4) -> tuple[Figure, np.ndarray]:
    """A figure of ``count`` square panels, four per row, extras removed."""
    columns = min(count, MAX_COLUMNS)
    rows = -(-count // columns)
    figure = Figure(figsize=(panel * columns, panel * rows), dpi=90)
    axes = figure.subplots(rows, columns, squeeze=False).ravel()
    for axis in axes[count:]:
        axis.remove()
    return figure, axes[:count]


def _valid(scores: np.ndarray, targets: np.ndarray, column: int):
    keep = targets[:, column] != -1
    return targets[keep, column], scores[keep, column]


def roc_grid(
    scores: np.ndarray,
    targets: np.ndarray,
    names: list[str],
    intervals: dict | None = None,
) -> Figure:
    """One ROC panel per class, AUC (and its interval) in the panel title.

    Args:
        intervals: ``{'point', 'low', 'high'}`` arrays (the ``auc`` entry of
            :func:`cxr_plugins.evaluation.metrics.clinical.evaluate_scores`).
    """
    figure, axes = _grid(len(names))
    for column, (axis, name) in enumerate(zip(axes, names)):
        labels, values = _valid(scores, targets, column)
        axis.plot([0, 1], [0, 1], linestyle='--', color='grey', linewidth=0.6)
        axis.set(xlim=(0, 1), ylim=(0, 1), xticks=[0, 0.5, 1], yticks=[0, 0.5, 1])
        if np.unique(labels).size < 2:
            axis.set_title(f'{name}\nundefined', fontsize=8)
            continue
        fpr, tpr, _ = roc_curve(labels, values)
        axis.plot(fpr, tpr, linewidth=1.2)
        title = f'{name}\nAUC {roc_auc_score(labels, values):.3f}'
        if intervals is not None and 'low' in intervals:
            title += (
                f' [{intervals["low"][column]:.3f}, {intervals["high"][column]:.3f}]'
            )
        axis.set_title(title, fontsize=8)
        axis.tick_params(labelsize=7)
    figure.supxlabel('false positive rate', fontsize=9)
    figure.supylabel('true positive rate', fontsize=9)
    figure.tight_layout()
    return figure


def pr_grid(scores: np.ndarray, targets: np.ndarray, names: list[str]) -> Figure:
    """One precision-recall panel per class; average precision and prevalence."""
    figure, axes = _grid(len(names))
    for column, (axis, name) in enumerate(zip(axes, names)):
        labels, values = _valid(scores, targets, column)
        axis.set(xlim=(0, 1), ylim=(0, 1), xticks=[0, 0.5, 1], yticks=[0, 0.5, 1])
        if np.unique(labels).size < 2:
            axis.set_title(f'{name}\nundefined', fontsize=8)
            continue
        precision, recall, _ = precision_recall_curve(labels, values)
        prevalence = float(labels.mean())
        axis.plot(recall, precision, linewidth=1.2)
        axis.axhline(prevalence, linestyle='--', color='grey', linewidth=0.6)
        axis.set_title(
            f'{name}\nAP {average_precision_score(labels, values):.3f} '
            f'(prev. {prevalence:.3f})',
            fontsize=8,
        )
        axis.tick_params(labelsize=7)
    figure.supxlabel('recall', fontsize=9)
    figure.supylabel('precision', fontsize=9)
    figure.tight_layout()
    return figure


def reliability_grid(
    names: list[str], reliability: list[dict], ece: np.ndarray
) -> Figure:
    """Reliability diagram per class: observed vs predicted frequency per bin.

    Args:
        names: Class names.
        reliability: Per class the output of
            :func:`cxr_plugins.evaluation.metrics.calibration.reliability_bins`.
        ece: Per-class expected calibration error (0-1).
    """
    figure, axes = _grid(len(names))
    for axis, name, bins, error in zip(axes, names, reliability, ece):
        filled = bins['count'] > 0
        edges = np.linspace(0, 1, len(bins['count']) + 1)
        centres = (edges[:-1] + edges[1:]) / 2
        axis.bar(
            centres[filled],
            bins['frequency'][filled],
            width=edges[1] - edges[0],
            color='#7aa6d6',
            edgecolor='white',
            linewidth=0.5,
        )
        axis.plot(
            bins['confidence'][filled],
            bins['frequency'][filled],
            'o',
            markersize=2.5,
            color='#1f3b73',
        )
        axis.plot([0, 1], [0, 1], linestyle='--', color='grey', linewidth=0.6)
        axis.set(xlim=(0, 1), ylim=(0, 1), xticks=[0, 0.5, 1], yticks=[0, 0.5, 1])
        label = 'undefined' if np.isnan(error) else f'ECE {error:.3f}'
        axis.set_title(f'{name}\n{label}', fontsize=8)
        axis.tick_params(labelsize=7)
    figure.supxlabel('predicted probability (bin)', fontsize=9)
    figure.supylabel('observed frequency', fontsize=9)
    figure.tight_layout()
    return figure


def dice_histogram(dice: np.ndarray) -> Figure:
    """Distribution of per-image Dice (20 bins on [0, 1]), mean marked."""
    figure = Figure(figsize=(6, 3), dpi=90)
    axis = figure.subplots()
    axis.hist(dice, bins=np.linspace(0, 1, 21), color='#7aa6d6', edgecolor='white')
    axis.axvline(float(np.mean(dice)), color='#c0392b', linewidth=1.2)
    axis.set(
        xlabel='per-image Dice',
        ylabel='images',
        title=f'{len(dice)} images, mean {np.mean(dice):.3f} (red)',
    )
    figure.tight_layout()
    return figure


def read_predictions_csv(
    path: str | os.PathLike,
) -> tuple[list[str], np.ndarray, np.ndarray]:
    """Class names, ``(N, C)`` probabilities and ``(N, C)`` targets (-1 = ignore).

    Raises:
        KeyError: A ``prob_<class>`` column has no ``gt_<class>`` partner or
            there are no ``prob_`` columns.
    """
    import pandas as pd

    frame = pd.read_csv(path)
    names = [
        column[len('prob_') :] for column in frame.columns if column.startswith('prob_')
    ]
    if not names:
        raise KeyError(f'{path}: no prob_<class> columns in {list(frame.columns)}')
    missing = [f'gt_{name}' for name in names if f'gt_{name}' not in frame.columns]
    if missing:
        raise KeyError(f'{path}: missing column(s) {missing}')
    scores = frame[[f'prob_{name}' for name in names]].to_numpy(dtype=float)
    targets = frame[[f'gt_{name}' for name in names]].to_numpy(dtype=float)
    return names, scores, targets


def roc_overview(
    scores: np.ndarray, targets: np.ndarray, names: list[str]
) -> tuple[Figure, dict[str, float]]:
    """All per-class ROC curves in one figure, AUC in the legend.

    Classes with a single label value (AUC undefined) are left out of the
    figure and of the returned AUCs.

    Returns:
        The figure and ``{class: AUC}``.
    """
    figure = Figure(figsize=(6.5, 6.0))
    axis = figure.subplots()
    aucs = {}
    for column, name in enumerate(names):
        valid = targets[:, column] != -1
        labels = targets[valid, column]
        if np.unique(labels).size < 2:
            continue
        fpr, tpr, _ = roc_curve(labels, scores[valid, column])
        aucs[name] = float(roc_auc_score(labels, scores[valid, column]))
        axis.plot(fpr, tpr, linewidth=1.2, label=f'{name} ({aucs[name]:.3f})')
    axis.plot([0, 1], [0, 1], linestyle='--', color='grey', linewidth=0.8)
    mean_auc = float(np.mean(list(aucs.values()))) if aucs else float('nan')
    axis.set(
        xlabel='false positive rate',
        ylabel='true positive rate',
        title=f'ROC per class (mean AUC {mean_auc:.3f})',
        xlim=(0, 1),
        ylim=(0, 1),
    )
    axis.legend(fontsize=7, loc='lower right')
    figure.tight_layout()
    return figure, aucs


def read_scalars(
    path: str | os.PathLike,
) -> dict[str, dict[str, tuple[np.ndarray, np.ndarray]]]:
    """Split ``scalars.json`` into training and validation series.

    Training records carry ``loss`` (logged per iteration at ``step`` = iter);
    the rest are validation records (``step`` = epoch or iteration of the
    validation run).

    Returns:
        ``{'train': {name: (steps, values)}, 'val': {name: (steps, values)}}``.

    Raises:
        ValueError: A line is not JSON or has no ``step`` (names the line).
    """
    series: dict[str, dict[str, list]] = {
        'train': defaultdict(list),
        'val': defaultdict(list),
    }
    with open(path) as file:
        for number, line in enumerate(file, start=1):
            if not line.strip():
                continue
            try:
                record = json.loads(line)
            except json.JSONDecodeError as error:
                raise ValueError(
                    f'{path}, line {number}: not JSON ({error})'
                ) from error
            if 'step' not in record:
                raise ValueError(f'{path}, line {number}: no "step" field')
            phase = 'train' if 'loss' in record else 'val'
            for name, value in record.items():
                if name in ('step', 'epoch', 'iter') or not isinstance(
                    value, (int, float)
                ):
                    continue
                series[phase][name].append((record['step'], value))
    return {
        phase: {
            name: tuple(np.array(column) for column in zip(*points))
            for name, points in named.items()
        }
        for phase, named in series.items()
    }


def training_curves(scalars: dict, names: list[str] | None = None) -> Figure:
    """One panel per series: ``loss*`` and ``lr`` vs iteration, validation metrics.

    Args:
        scalars: Output of :func:`read_scalars`.
        names: Series to draw (``train/<name>`` or ``val/<name>``); default the
            losses, ``lr`` and every validation metric (no timings), four
            panels per row.
    """
    if names is None:
        names = [
            f'train/{name}'
            for name in scalars['train']
            if name.startswith('loss') or name == 'lr'
        ]
        names += [f'val/{name}' for name in scalars['val'] if name not in TIMING_SERIES]
    if not names:
        raise ValueError('no series to plot')
    columns = min(len(names), MAX_COLUMNS)
    rows = -(-len(names) // columns)
    figure = Figure(figsize=(4.0 * columns, 3.2 * rows))
    axes = figure.subplots(rows, columns, squeeze=False).ravel()
    for axis in axes[len(names) :]:
        axis.remove()
    for axis, full_name in zip(axes, names):
        phase, name = full_name.split('/', 1)
        if name not in scalars[phase]:
            raise KeyError(f'{full_name}: not logged; found {sorted(scalars[phase])}')
        steps, values = scalars[phase][name]
        axis.plot(
            steps,
            values,
            marker='o' if phase == 'val' else None,
            markersize=3,
            linewidth=1.2,
        )
        axis.set(title=full_name, xlabel='iteration' if phase == 'train' else 'step')
        axis.grid(alpha=0.3)
    figure.tight_layout()
    return figure
