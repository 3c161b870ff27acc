"""Multi-label ROC-AUC (mAUC) for chest X-ray classification.

The metric of the NIH ChestX-ray14 / CheXpert fine-tuning tables (Wang et al.,
https://arxiv.org/abs/1705.02315; Medical MAE, https://arxiv.org/abs/2210.12843;
MRM, https://arxiv.org/abs/2301.13155; EVA-X, https://arxiv.org/abs/2405.05237):
the mean over classes of sklearn's ``roc_auc_score`` on sigmoid scores. Unlike
the seeds, a class whose AUC is undefined is reported as ``NaN`` (with a
warning) rather than 0, entries labelled ``-1`` (CheXpert U-Ignore) are left
out of their class, and results are gathered from every rank by mmengine's
``BaseMetric`` (one result per sample).
"""

from __future__ import annotations

import csv
import warnings
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import torch
from mmengine.evaluator import BaseMetric
from mmengine.logging import MMLogger
from mmpretrain.registry import METRICS

from cxr_plugins.evaluation.metrics.auc_math import (
    bootstrap_auc,
    per_class_auc,
    percentile_ci,
)
from cxr_plugins.visualization.curves import save_roc_curves


def _as_numpy(value: torch.Tensor | np.ndarray) -> np.ndarray:
    return value.detach().cpu().numpy() if torch.is_tensor(value) else np.asarray(value)


@METRICS.register_module()
class MultiLabelAUC(BaseMetric):
    """Per-class and mean ROC-AUC, optionally with bootstrap 95% CIs.

    Values are in percent (as the seeds' tables and mmpretrain's metrics).
    Keys (with the default prefix): ``auc/mAUC``, ``auc/<class>`` and, with
    ``bootstrap``, ``auc/mAUC_ci_low``/``auc/mAUC_ci_high`` and
    ``auc/<class>_ci_low``/``_ci_high``.

    Args:
        bootstrap: Number of bootstrap resamples of the images (0 = none).
        seed: Seed of the bootstrap (same seed, same interval).
        ci_level: Confidence level of the percentile interval.
        out_dir: If set, write ``predictions.csv`` (image path, per-class
            probability and ground truth) and ``roc_<class>.png`` per class
            there.
        collect_device: Device for gathering results across ranks.
        prefix: Metric key prefix. Defaults to ``'auc'``.
    """

    default_prefix = 'auc'

    def __init__(
        self,
        bootstrap: int = 0,
        seed: int = 0,
        ci_level: float = 0.95,
        out_dir: str | None = None,
        collect_device: str = 'cpu',
        prefix: str | None = None,
    ) -> None:
        super().__init__(collect_device=collect_device, prefix=prefix)
        if bootstrap < 0:
            raise ValueError(f'MultiLabelAUC: bootstrap={bootstrap} must be >= 0.')
        self.bootstrap = bootstrap
        self.seed = seed
        self.ci_level = ci_level
        self.out_dir = out_dir

    def process(self, data_batch, data_samples: Sequence[dict]) -> None:
        """Store one result per sample: scores, targets and image path."""
        for sample in data_samples:
            scores = _as_numpy(sample['pred_score']).astype(np.float64)
            if 'gt_score' in sample:
                targets = _as_numpy(sample['gt_score'])
            else:
                targets = np.zeros(scores.shape[0])
                targets[_as_numpy(sample['gt_label']).astype(int)] = 1
            self.results.append(
                dict(
                    pred_score=scores,
                    gt_score=targets.astype(np.float64),
                    img_path=sample.get('img_path', ''),
                )
            )

    def class_names(self, num_classes: int) -> list[str]:
        """Class names from ``dataset_meta`` or ``class_<i>``."""
        classes = (self.dataset_meta or {}).get('classes')
        if classes is None:
            return [f'class_{i}' for i in range(num_classes)]
        if len(classes) != num_classes:
            raise ValueError(
                f'MultiLabelAUC: dataset_meta has {len(classes)} classes but the '
                f'predictions have {num_classes}.'
            )
        return list(classes)

    def compute_metrics(self, results: list[dict]) -> dict[str, float]:
        """Compute per-class AUCs, their mean and the bootstrap CIs."""
        scores = np.stack([r['pred_score'] for r in results])
        targets = np.stack([r['gt_score'] for r in results])
        names = self.class_names(scores.shape[1])
        aucs = per_class_auc(scores, targets)
        undefined = [n for n, a in zip(names, aucs) if np.isnan(a)]
        if undefined:
            warnings.warn(
                f'MultiLabelAUC: AUC undefined (one label value among the '
                f'{len(results)} samples) for {undefined}; reported as NaN and '
                'left out of mAUC.',
                stacklevel=2,
            )
        defined = ~np.isnan(aucs)
        if not defined.any():
            raise ValueError(
                'MultiLabelAUC: no class has both positive and negative samples.'
            )
        metrics = {'mAUC': 100 * float(aucs[defined].mean())}
        metrics.update({n: 100 * float(a) for n, a in zip(names, aucs)})
        low = high = None
        if self.bootstrap:
            resampled = bootstrap_auc(scores, targets, self.bootstrap, self.seed)
            # A resample where a defined class lost all its positives (or
            # negatives) is NaN and left out: averaging it over fewer classes
            # would mix a different statistic into the mAUC interval.
            mean_resampled = resampled[:, defined].mean(axis=1)
            dropped = int(np.isnan(mean_resampled).sum())
            if dropped:
                warnings.warn(
                    f'MultiLabelAUC: {dropped} of {self.bootstrap} bootstrap '
                    'resamples left a class with one label value; they are left '
                    'out of the mAUC interval.',
                    stacklevel=2,
                )
            low, high = percentile_ci(resampled, self.ci_level)
            mean_low, mean_high = percentile_ci(mean_resampled, self.ci_level)
            metrics['mAUC_ci_low'] = 100 * float(mean_low)
            metrics['mAUC_ci_high'] = 100 * float(mean_high)
            for name, lo, hi in zip(names, low, high):
                metrics[f'{name}_ci_low'] = 100 * float(lo)
                metrics[f'{name}_ci_high'] = 100 * float(hi)
        MMLogger.get_current_instance().info(
            '\n' + format_auc_table(names, aucs, targets, low, high)
        )
        if self.out_dir:
            self.write_outputs(results, scores, targets, names)
        return metrics

    def write_outputs(
        self,
        results: list[dict],
        scores: np.ndarray,
        targets: np.ndarray,
        names: list[str],
    ) -> None:
        """Write ``predictions.csv`` and one ROC curve PNG per class."""
        out_dir = Path(self.out_dir)
        out_dir.mkdir(parents=True, exist_ok=True)
        with open(out_dir / 'predictions.csv', 'w', newline='') as file:
            writer = csv.writer(file)
            writer.writerow(
                ['img_path'] + [f'prob_{n}' for n in names] + [f'gt_{n}' for n in names]
            )
            for result, row_scores, row_targets in zip(results, scores, targets):
                writer.writerow(
                    [result['img_path']]
                    + [f'{v:.8g}' for v in row_scores]
                    + [int(v) for v in row_targets]
                )
        save_roc_curves(scores, targets, names, out_dir)


def format_auc_table(
    names: list[str],
    aucs: np.ndarray,
    targets: np.ndarray,
    low: np.ndarray | None,
    high: np.ndarray | None,
) -> str:
    """Plain-text per-class table: class, positives, negatives, AUC (CI)."""
    lines = [f'{"class":<22}{"pos":>7}{"neg":>8}  AUC (%)']
    for column, name in enumerate(names):
        pos = int((targets[:, column] == 1).sum())
        neg = int((targets[:, column] == 0).sum())
        value = 'undefined' if np.isnan(aucs[column]) else f'{100 * aucs[column]:.2f}'
        if low is not None and not np.isnan(aucs[column]):
            value += f' [{100 * low[column]:.2f}, {100 * high[column]:.2f}]'
        lines.append(f'{name:<22}{pos:>7}{neg:>8}  {value}')
    defined = ~np.isnan(aucs)
    lines.append(f'{"mean (defined)":<22}{"":>15}  {100 * aucs[defined].mean():.2f}')
    return '\n'.join(lines)
