"""Binary / multi-class metrics for single-label chest X-ray tasks.

COVIDx (EVA-X, https://arxiv.org/abs/2405.05237: accuracy, sensitivity and
PPV per class), ImageFolder sets (MSMAE, https://arxiv.org/abs/2305.05871) and
MIMIC-CXR normal/abnormal (accuracy, precision, recall, F1, ROC-AUC). All
point values come from sklearn; this class only gathers per-sample results (so
distributed evaluation is exact) and names the outputs. The AUC gets a
bootstrap interval (patients resampled where known), subgroups, calibration
and operating points through :mod:`cxr_plugins.evaluation.metrics.clinical`,
on the class-1 probability for two classes and one-vs-rest otherwise.
"""

from __future__ import annotations

import csv
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import torch
from mmengine.evaluator import BaseMetric
from mmengine.logging import MMLogger
from mmpretrain.registry import METRICS
from sklearn.metrics import (
    accuracy_score,
    precision_recall_fscore_support,
    roc_auc_score,
)

from cxr_plugins.evaluation.metrics.clinical import flat_metrics
from cxr_plugins.evaluation.metrics.multilabel_auc import (
    ClinicalEvaluationMixin,
    collect_meta,
    sample_meta,
    write_result_json,
)
from cxr_plugins.evaluation.metrics.subgroups import DEFAULT_AGE_EDGES
from cxr_plugins.visualization.curves import save_roc_curves


@METRICS.register_module()
class CXRClsMetrics(ClinicalEvaluationMixin, BaseMetric):
    """Accuracy, precision, recall, F1, ROC-AUC with CI, per-class sensitivity / PPV.

    Values in percent. Keys (default prefix ``cls``): ``accuracy``,
    ``precision``/``recall``/``f1`` (for two classes: of the positive class
    ``1``, as the MIMIC seed reports; otherwise macro averages), ``auc``
    (binary: on the class-1 probability; multi-class: macro one-vs-rest),
    with ``bootstrap`` ``auc_ci_low``/``auc_ci_high``, and
    ``sensitivity_<class>``/``ppv_<class>`` (at the arg-max decision).
    Subgroup means (``auc_<subgroup>=<value>/mAUC``), gaps and ``auc_mECE``
    as in :class:`~cxr_plugins.evaluation.metrics.MultiLabelAUC`.

    Args:
        bootstrap: Number of bootstrap resamples for the AUC CI (0 = none).
        seed, ci_level, resample_unit, subgroups, age_edges, operating_point,
        target_sensitivity, thresholds_out, thresholds_in, report_dir: As in
            :class:`~cxr_plugins.evaluation.metrics.MultiLabelAUC` (thresholds
            are per scored class: class 1 for two classes).
        out_dir: If set, write ``predictions.csv``, ``evaluation.json`` and
            one-vs-rest ROC PNGs.
        collect_device: Device for gathering results across ranks.
        prefix: Metric key prefix. Defaults to ``'cls'``.
    """

    default_prefix = 'cls'

    def __init__(
        self,
        bootstrap: int = 0,
        seed: int = 0,
        ci_level: float = 0.95,
        resample_unit: str = 'auto',
        subgroups: Sequence[str] = (),
        age_edges: Sequence[int] = DEFAULT_AGE_EDGES,
        operating_point: str = 'youden',
        target_sensitivity: float | None = None,
        thresholds_out: str | None = None,
        thresholds_in: str | None = None,
        out_dir: str | None = None,
        report_dir: str | None = None,
        collect_device: str = 'cpu',
        prefix: str | None = None,
    ) -> None:
        super().__init__(collect_device=collect_device, prefix=prefix)
        self._init_clinical(
            bootstrap,
            seed,
            ci_level,
            resample_unit,
            subgroups,
            age_edges,
            operating_point,
            target_sensitivity,
            thresholds_out,
            thresholds_in,
            out_dir,
            report_dir,
        )

    def process(self, data_batch, data_samples: Sequence[dict]) -> None:
        """Store the softmax scores, label and image path of each sample."""
        for sample in data_samples:
            score = sample['pred_score']
            label = sample['gt_label']
            self.results.append(
                dict(
                    pred_score=score.detach().cpu().numpy().astype(np.float64)
                    if torch.is_tensor(score)
                    else np.asarray(score, dtype=np.float64),
                    gt_label=int(label.reshape(-1)[0]),
                    img_path=sample.get('img_path', ''),
                    meta=sample_meta(sample),
                )
            )

    def compute_metrics(self, results: list[dict]) -> dict[str, float]:
        """Compute the metrics over all gathered samples."""
        scores = np.stack([r['pred_score'] for r in results])
        labels = np.array([r['gt_label'] for r in results])
        num_classes = scores.shape[1]
        classes = (self.dataset_meta or {}).get('classes') or [
            f'class_{i}' for i in range(num_classes)
        ]
        if len(classes) != num_classes:
            raise ValueError(
                f'CXRClsMetrics: dataset_meta has {len(classes)} classes but the '
                f'predictions have {num_classes}.'
            )
        predicted = scores.argmax(axis=1)
        all_classes = list(range(num_classes))
        metrics = {'accuracy': 100 * accuracy_score(labels, predicted)}
        average = 'binary' if num_classes == 2 else 'macro'
        precision, recall, f1, _ = precision_recall_fscore_support(
            labels,
            predicted,
            labels=all_classes if average == 'macro' else None,
            average=average,
            zero_division=0,
        )
        metrics.update(precision=100 * precision, recall=100 * recall, f1=100 * f1)
        present = np.unique(labels)
        if present.size < 2:
            MMLogger.get_current_instance().warning(
                'CXRClsMetrics: one class only in the ground truth; AUC is NaN.'
            )
            metrics['auc'] = float('nan')
        elif num_classes == 2:
            metrics['auc'] = 100 * roc_auc_score(labels, scores[:, 1])
        else:
            metrics['auc'] = 100 * one_vs_rest_auc(labels, scores, classes)
        ppv, sensitivity, _, _ = precision_recall_fscore_support(
            labels, predicted, labels=all_classes, average=None, zero_division=0
        )
        for name, sens, pp in zip(classes, sensitivity, ppv):
            metrics[f'sensitivity_{name}'] = 100 * sens
            metrics[f'ppv_{name}'] = 100 * pp
        if present.size >= 2:
            metrics.update(self._auc_details(results, scores, labels, list(classes)))
        if self.out_dir:
            self._write_outputs(results, scores, labels, classes)
        return {key: float(value) for key, value in metrics.items()}

    def _auc_details(
        self,
        results: list[dict],
        scores: np.ndarray,
        labels: np.ndarray,
        classes: list[str],
    ) -> dict[str, float]:
        """AUC interval, subgroups, calibration and operating points.

        Two classes: the class-1 probability against ``label == 1``; more: one
        column per class, one-vs-rest (classes absent from the ground truth
        are undefined and left out of the mean, as in :func:`one_vs_rest_auc`).
        """
        one_hot = np.eye(scores.shape[1])[labels]
        columns = [1] if scores.shape[1] == 2 else list(range(scores.shape[1]))
        names = [classes[c] for c in columns]
        result = self._clinical(
            scores[:, columns], one_hot[:, columns], names, collect_meta(results)
        )
        if self.out_dir:
            write_result_json(result, self.out_dir)
        if self.report_dir:
            self._write_report_section(result, scores[:, columns], one_hot[:, columns])
        details = {}
        for key, value in flat_metrics(result).items():
            if key.startswith('mAUC_ci'):
                details[key.replace('mAUC', 'auc')] = value
            elif '/' in key or key == 'mECE':
                details[f'auc_{key}'] = value
        return details

    def _write_outputs(
        self,
        results: list[dict],
        scores: np.ndarray,
        labels: np.ndarray,
        classes: list[str],
    ) -> None:
        out_dir = Path(self.out_dir)
        out_dir.mkdir(parents=True, exist_ok=True)
        with open(out_dir / 'predictions.csv', 'w', newline='') as file:
            writer = csv.writer(file)
            writer.writerow(
                ['img_path', 'gt_label', 'pred_label'] + [f'prob_{c}' for c in classes]
            )
            for result, row, label in zip(results, scores, labels):
                writer.writerow(
                    [result['img_path'], int(label), int(row.argmax())]
                    + [f'{v:.8g}' for v in row]
                )
        one_hot = np.eye(scores.shape[1])[labels]
        save_roc_curves(scores, one_hot, list(classes), out_dir)


def one_vs_rest_auc(
    labels: np.ndarray, scores: np.ndarray, classes: list[str]
) -> float:
    """Macro one-vs-rest ROC-AUC over the classes present in ``labels``.

    sklearn's ``multi_class='ovr'`` returns NaN as soon as one class is absent
    (a small COVIDx validation set without COVID-19, say); here the absent
    classes are named in a warning and left out of the mean instead.
    """
    present = set(np.unique(labels).tolist())
    absent = [name for index, name in enumerate(classes) if index not in present]
    if absent:
        MMLogger.get_current_instance().warning(
            f'CXRClsMetrics: no ground-truth sample of {absent}; their '
            'one-vs-rest AUC is undefined and left out of the macro AUC.'
        )
    aucs = [
        roc_auc_score(labels == index, scores[:, index])
        for index in range(len(classes))
        if index in present
    ]
    return float(np.mean(aucs))
