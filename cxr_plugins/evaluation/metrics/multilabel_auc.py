"""Multi-label ROC-AUC (mAUC) for chest X-ray classification.

The metric of the NIH ChestX-ray14 / CheXpert fine-tuning tables (Wang et al.,
https://arxiv.org/abs/1705.02315; Medical MAE, https://arxiv.org/abs/2210.12843;
MRM, https://arxiv.org/abs/2301.13155; EVA-X, https://arxiv.org/abs/2405.05237):
the mean over classes of sklearn's ``roc_auc_score`` on sigmoid scores. Unlike
the seeds, a class whose AUC is undefined is reported as ``NaN`` (with a
warning) rather than 0, entries labelled ``-1`` (CheXpert U-Ignore) are left
out of their class, and results are gathered from every rank by mmengine's
``BaseMetric`` (one result per sample). Intervals, subgroups, calibration and
operating points come from :mod:`cxr_plugins.evaluation.metrics.clinical`.
"""

from __future__ import annotations

import csv
import json
import os
import warnings
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import torch
from mmengine.evaluator import BaseMetric
from mmengine.logging import MMLogger
from mmpretrain.registry import METRICS

from cxr_plugins.evaluation.metrics.auc_math import check_binary_targets
from cxr_plugins.evaluation.metrics.clinical import (
    evaluate_scores,
    fit_thresholds,
    flat_metrics,
    format_tables,
    subset_mask,
    to_jsonable,
)
from cxr_plugins.evaluation.metrics.operating_points import (
    check_rule,
    load_thresholds,
    save_thresholds,
)
from cxr_plugins.evaluation.metrics.subgroups import (
    DEFAULT_AGE_EDGES,
    META_KEYS,
    check_subgroup_names,
)
from cxr_plugins.visualization.curves import save_roc_curves


def _as_numpy(value: torch.Tensor | np.ndarray) -> np.ndarray:
    return value.detach().cpu().numpy() if torch.is_tensor(value) else np.asarray(value)


def sample_meta(sample: dict) -> dict:
    """The metadata keys (:data:`META_KEYS`) a packed sample carries."""
    meta = {}
    for key in META_KEYS:
        value = sample.get(key)
        if torch.is_tensor(value) or isinstance(value, np.ndarray | np.generic):
            value = np.asarray(value).reshape(-1)[0].item()
        if value is not None:
            meta[key] = value
    return meta


def collect_meta(results: list[dict]) -> dict[str, list]:
    """``{key: per-sample values}`` for every key at least one sample has."""
    keys = [k for k in META_KEYS if any(k in r['meta'] for r in results)]
    return {key: [r['meta'].get(key) for r in results] for key in keys}


class ClinicalEvaluationMixin:
    """Shared options of the AUC metrics: intervals, subgroups, thresholds, report.

    Threshold protocol (validation -> test): the metric evaluating the
    validation split is given ``thresholds_out=PATH`` and writes the thresholds
    fitted there by ``operating_point``; the metric evaluating the test split
    is given ``thresholds_in=PATH`` and reports sensitivity, specificity, PPV
    and NPV at those thresholds. ``tools/test.py --operating-point youden``
    does both for the checkpoint under test (one validation pass, then the
    test pass); ``--thresholds PATH`` reuses a saved file.
    """

    #: Classes of the extra subset mean (set by metrics that offer it).
    subset_classes: tuple[str, ...] = ()

    def _init_clinical(
        self,
        bootstrap: int,
        seed: int,
        ci_level: float,
        resample_unit: str,
        subgroups: Sequence[str],
        age_edges: Sequence[int],
        operating_point: str,
        target_sensitivity: float | None,
        thresholds_out: str | None,
        thresholds_in: str | None,
        out_dir: str | None,
        report_dir: str | None,
    ) -> None:
        if bootstrap < 0:
            raise ValueError(
                f'{type(self).__name__}: bootstrap={bootstrap} must be >= 0.'
            )
        check_subgroup_names(subgroups)
        check_rule(operating_point, target_sensitivity)
        self.bootstrap = bootstrap
        self.seed = seed
        self.ci_level = ci_level
        self.resample_unit = resample_unit
        self.subgroups = list(subgroups)
        self.age_edges = tuple(age_edges)
        self.operating_point = operating_point
        self.target_sensitivity = target_sensitivity
        self.thresholds_out = thresholds_out
        self.thresholds_in = thresholds_in
        self.out_dir = out_dir
        self.report_dir = report_dir

    def _clinical(
        self, scores: np.ndarray, targets: np.ndarray, names: list[str], meta: dict
    ) -> dict:
        """Run :func:`evaluate_scores`, save thresholds, log the tables."""
        logger = MMLogger.get_current_instance()
        prefix = type(self).__name__

        def note(message: str) -> None:
            logger.info(f'{prefix}: {message}')

        thresholds = None
        if self.thresholds_in:
            thresholds = load_thresholds(self.thresholds_in, names)
        result = evaluate_scores(
            scores,
            targets,
            names,
            meta,
            bootstrap=self.bootstrap,
            seed=self.seed,
            ci_level=self.ci_level,
            resample_unit=self.resample_unit,
            subgroups=self.subgroups,
            age_edges=self.age_edges,
            thresholds=thresholds,
            subset_classes=self.subset_classes,
            log=note,
        )
        if self.thresholds_out:
            fitted = fit_thresholds(
                scores, targets, self.operating_point, self.target_sensitivity
            )
            save_thresholds(
                self.thresholds_out,
                names,
                fitted,
                self.operating_point,
                self.target_sensitivity,
                fitted_on=f'{len(scores)} images evaluated by {prefix}',
            )
            note(f'{self.operating_point} thresholds written to {self.thresholds_out}')
        logger.info('\n' + format_tables(result))
        return result

    def _write_report_section(
        self, result: dict, scores: np.ndarray, targets: np.ndarray
    ) -> None:
        from cxr_plugins.visualization.report import (
            classification_section,
            write_section,
        )

        write_section(
            self.report_dir,
            type(self).__name__,
            classification_section(result, scores, targets),
        )


def write_result_json(result: dict, folder: str | os.PathLike) -> None:
    """``evaluation.json``: every number of an evaluation result (atomic write)."""
    path = Path(folder) / 'evaluation.json'
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f'.{path.name}.tmp')
    temporary.write_text(json.dumps(to_jsonable(result), indent=1))
    os.replace(temporary, path)


@METRICS.register_module()
class MultiLabelAUC(ClinicalEvaluationMixin, BaseMetric):
    """Per-class and mean ROC-AUC with patient-level bootstrap CIs and more.

    Values are in percent (as the seeds' tables and mmpretrain's metrics).
    Keys (with the default prefix): ``auc/mAUC``, ``auc/<class>``; with
    ``bootstrap``, ``auc/mAUC_ci_low``/``_ci_high`` and
    ``auc/<class>_ci_low``/``_ci_high``; with ``subset_classes``,
    ``auc/mAUC_subset`` (and its CI); ``auc/mECE``; per subgroup
    ``auc/<subgroup>=<value>/mAUC`` and ``auc/<subgroup>/gap``. The log shows
    the full tables (valid resamples per class, ECE, subgroups with CIs and
    the operating points).

    The bootstrap resamples patients when every sample carries a
    ``patient_id`` in its metainfo (``resample_unit='auto'``), images
    otherwise; see :mod:`cxr_plugins.evaluation.metrics.clinical`.

    Args:
        bootstrap: Number of bootstrap resamples (0 = none).
        seed: Seed of the bootstrap (same seed, same interval).
        ci_level: Confidence level of the percentile interval.
        resample_unit: ``'auto'``, ``'patient'`` or ``'image'``.
        subgroups: e.g. ``['sex', 'view', 'age_bin']``: per-group AUC with CIs
            and the gap between the best and worst group. Keys the samples do
            not carry are skipped with a log line.
        age_edges: Bin edges (years) of ``age_bin``; the default gives
            ``<40, 40-59, 60-79, >=80``.
        operating_point: Threshold rule fitted for ``thresholds_out``:
            ``'youden'`` or ``'sensitivity'`` (with ``target_sensitivity``).
        target_sensitivity: Sensitivity to reach, e.g. 0.95.
        thresholds_out: Write the thresholds fitted on this split (JSON).
        thresholds_in: Report sensitivity / specificity / PPV / NPV at the
            thresholds of this JSON (fitted on validation).
        out_dir: If set, write ``predictions.csv`` (image path, patient id and
            metadata where known, per-class probability and ground truth),
            ``evaluation.json`` and ``roc_<class>.png`` per class there.
        report_dir: If set, write this metric's section of the HTML report
            there (``tools/test.py --report`` assembles the page).
        subset_classes: Also report ``auc/mAUC_subset`` (with CI): the mean
            over these classes, e.g. those with enough positive patients in
            validation and test to be estimable; ``auc/mAUC`` stays the mean
            over every defined class. A name that is not a class raises.
        collect_device: Device for gathering results across ranks.
        prefix: Metric key prefix. Defaults to ``'auc'``.
    """

    default_prefix = 'auc'

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
        subset_classes: Sequence[str] = (),
        collect_device: str = 'cpu',
        prefix: str | None = None,
    ) -> None:
        super().__init__(collect_device=collect_device, prefix=prefix)
        self.subset_classes = tuple(subset_classes)
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
        """Store one result per sample: scores, targets, image path, metadata."""
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
                    meta=sample_meta(sample),
                )
            )

    @property
    def dataset_meta(self) -> dict | None:
        """Meta info of the dataset; setting it checks ``subset_classes``."""
        return self._dataset_meta

    @dataset_meta.setter
    def dataset_meta(self, meta: dict | None) -> None:
        # The loops set this before the first epoch: a misspelt subset class
        # fails then, not after an epoch of training.
        classes = (meta or {}).get('classes')
        if classes is not None:
            subset_mask(list(classes), self.subset_classes)
        self._dataset_meta = meta

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
        """Per-class AUCs, mean, CIs, subgroups, calibration, operating points."""
        scores = np.stack([r['pred_score'] for r in results])
        targets = np.stack([r['gt_score'] for r in results])
        check_binary_targets(targets)
        names = self.class_names(scores.shape[1])
        meta = collect_meta(results)
        result = self._clinical(scores, targets, names, meta)
        aucs = result['auc']['point']
        undefined = [n for n, a in zip(names, aucs) if np.isnan(a)]
        if undefined:
            warnings.warn(
                f'MultiLabelAUC: AUC undefined (one label value among the '
                f'{len(results)} samples) for {undefined}; reported as NaN and '
                'left out of mAUC.',
                stacklevel=2,
            )
        if np.isnan(aucs).all():
            raise ValueError(
                'MultiLabelAUC: no class has both positive and negative samples.'
            )
        if self.bootstrap and result['mean']['complete'] < self.bootstrap:
            MMLogger.get_current_instance().info(
                f'MultiLabelAUC: in {self.bootstrap - result["mean"]["complete"]} of '
                f'{self.bootstrap} bootstrap resamples a class had one label value; '
                'its own interval uses its valid resamples only, and the mean of '
                'those resamples takes a draw from them (valid counts in the table).'
            )
        if self.out_dir:
            self.write_outputs(results, scores, targets, names, meta)
            write_result_json(result, self.out_dir)
        if self.report_dir:
            self._write_report_section(result, scores, targets)
        return flat_metrics(result)

    def write_outputs(
        self,
        results: list[dict],
        scores: np.ndarray,
        targets: np.ndarray,
        names: list[str],
        meta: dict[str, list] | None = None,
    ) -> None:
        """Write ``predictions.csv`` and one ROC curve PNG per class."""
        out_dir = Path(self.out_dir)
        out_dir.mkdir(parents=True, exist_ok=True)
        write_predictions_csv(
            out_dir / 'predictions.csv',
            [r['img_path'] for r in results],
            meta or {},
            names,
            scores,
            targets,
        )
        save_roc_curves(scores, targets, names, out_dir)


def write_predictions_csv(
    path: Path,
    img_paths: list[str],
    meta: dict[str, list],
    names: list[str],
    scores: np.ndarray,
    targets: np.ndarray,
) -> None:
    """``img_path``, metadata columns present, ``prob_<class>``, ``gt_<class>``.

    ``patient_id`` (when known) lets ``tools/analysis/compare_models.py``
    resample patients. Written to a temporary file and renamed.
    """
    temporary = path.with_name(f'.{path.name}.tmp')
    with open(temporary, 'w', newline='') as file:
        writer = csv.writer(file)
        writer.writerow(
            ['img_path', *meta]
            + [f'prob_{n}' for n in names]
            + [f'gt_{n}' for n in names]
        )
        for index, (row_scores, row_targets) in enumerate(zip(scores, targets)):
            writer.writerow(
                [img_paths[index]]
                + ['' if meta[k][index] is None else meta[k][index] for k in meta]
                + [f'{v:.8g}' for v in row_scores]
                + [int(v) for v in row_targets]
            )
    os.replace(temporary, path)
