"""Evaluation of per-class scores as clinical papers report it, in one pass.

From ``(N, C)`` probabilities, 0/1/-1 targets and per-sample metadata:

* per-class ROC-AUC and their mean with percentile bootstrap intervals that
  resample patients where patient ids are known (cluster bootstrap, see
  :mod:`~cxr_plugins.evaluation.metrics.auc_math`), with the number of valid
  resamples per class (degenerate resamples dropped per class, pROC's
  convention); the mean's interval uses the resamples in which every class
  defined on the full set is defined (otherwise it would average a different
  set of classes), and its valid count is reported too;
* per-subgroup AUC (sex, view, site, age bins) with intervals from the *same*
  resamples, so the gap between the best and the worst group gets a paired
  interval (resamples are drawn over all patients and restricted to each
  group, which keeps a patient's images together);
* expected calibration error and reliability bins per class
  (:mod:`~cxr_plugins.evaluation.metrics.calibration`);
* sensitivity, specificity, PPV and NPV at thresholds fitted elsewhere
  (validation), with intervals from the same resamples
  (:mod:`~cxr_plugins.evaluation.metrics.operating_points`).

Everything is returned as one plain dict that the metrics log, flatten into
mmengine's metric dict, dump as JSON and hand to the HTML report.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np

from cxr_plugins.evaluation.metrics.auc_math import (
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
from cxr_plugins.evaluation.metrics.calibration import (
    DEFAULT_BINS,
    expected_calibration_error,
    reliability_bins,
)
from cxr_plugins.evaluation.metrics.operating_points import (
    RATES,
    choose_threshold,
    rate_indicators,
    rates_from_counts,
)
from cxr_plugins.evaluation.metrics.subgroups import (
    DEFAULT_AGE_EDGES,
    age_bin_labels,
    check_subgroup_names,
    subgroup_values,
)

RESAMPLE_UNITS = ('auto', 'patient', 'image')
#: Groups with fewer images are listed with their size but get no AUC.
DEFAULT_MIN_GROUP_SIZE = 20


def resolve_groups(
    meta: dict[str, list], resample_unit: str, log: Callable[[str], None]
) -> tuple[np.ndarray | None, str]:
    """Patient codes for the bootstrap and the unit actually resampled.

    ``auto`` resamples patients when every sample has a ``patient_id`` and
    images otherwise (said in one log line); ``patient`` without ids raises.
    """
    if resample_unit not in RESAMPLE_UNITS:
        raise ValueError(
            f'resample_unit={resample_unit!r}; choose from {RESAMPLE_UNITS}'
        )
    if resample_unit == 'image':
        return None, 'image'
    ids = meta.get('patient_id')
    if ids is None:
        reason = 'the samples carry no patient_id'
    else:
        missing = sum(value is None or str(value) == '' for value in ids)
        reason = f'{missing} sample(s) carry no patient_id' if missing else ''
    if reason:
        if resample_unit == 'patient':
            raise ValueError(f'resample_unit="patient" but {reason} in their metainfo')
        log(
            f'bootstrap resamples images: {reason} (intervals are too narrow '
            'where patients have several images)'
        )
        return None, 'image'
    return patient_codes(ids), 'patient'


def fit_thresholds(
    scores: np.ndarray, targets: np.ndarray, rule: str, target: float | None = None
) -> np.ndarray:
    """``(C,)`` thresholds by ``rule`` (``NaN`` for undefined classes)."""
    return np.array(
        [
            choose_threshold(scores[:, c], targets[:, c], rule, target)
            for c in range(scores.shape[1])
        ]
    )


def _interval(samples: np.ndarray, level: float) -> dict[str, np.ndarray]:
    low, high = percentile_ci(samples, level)
    return dict(low=low, high=high, valid=valid_resamples(samples))


def _complete(samples: np.ndarray, classes: np.ndarray) -> int:
    """Resamples in which every one of ``classes`` is defined."""
    return int((~np.isnan(samples[:, classes])).all(axis=1).sum())


def evaluate_scores(
    scores: np.ndarray,
    targets: np.ndarray,
    names: Sequence[str],
    meta: dict[str, list] | None = None,
    bootstrap: int = 1000,
    seed: int = 0,
    ci_level: float = 0.95,
    resample_unit: str = 'auto',
    subgroups: Sequence[str] = (),
    age_edges: Sequence[int] = DEFAULT_AGE_EDGES,
    min_group_size: int = DEFAULT_MIN_GROUP_SIZE,
    calibration_bins: int = DEFAULT_BINS,
    thresholds: dict | None = None,
    subset_classes: Sequence[str] = (),
    log: Callable[[str], None] = print,
) -> dict:
    """AUCs with intervals, subgroups, calibration and operating points.

    Args:
        scores: ``(N, C)`` probabilities.
        targets: ``(N, C)`` 0/1 targets, ``-1`` ignored.
        names: ``C`` class names.
        meta: ``{key: N values}`` of the metadata keys present
            (``patient_id``, ``sex``, ``age``, ``view``, ``site``).
        bootstrap: Number of resamples (0 = no intervals).
        seed: Bootstrap seed.
        ci_level: Level of the percentile intervals.
        resample_unit: ``auto`` (patients if known), ``patient`` or ``image``.
        subgroups: Metadata keys (or ``age_bin``) to report AUC per group for;
            a key the data does not carry is skipped with a log line.
        age_edges: Bin edges (years) of ``age_bin``.
        min_group_size: Groups with fewer images get no AUC.
        calibration_bins: Equal-width bins of the ECE.
        thresholds: Output of
            :func:`~cxr_plugins.evaluation.metrics.operating_points.load_thresholds`
            (fitted on validation), or ``None`` for no operating points.
        subset_classes: Names of classes whose mean AUC (with its interval,
            from the same resamples) is reported besides the mean over every
            defined class, e.g. the classes with enough positive patients to
            be estimable (see :func:`subset_mask`).
        log: Where the one-line notes go.

    Returns:
        A dict with ``names``, counts, ``auc``/``mean`` (point, low, high,
        valid), ``subset`` (``None`` or classes, point, low, high, valid),
        ``subgroups``, ``calibration`` and ``operating_points``.
    """
    check_binary_targets(targets)
    check_subgroup_names(subgroups)
    meta = meta or {}
    num_images, num_classes = scores.shape
    groups, unit = resolve_groups(
        meta, resample_unit, log if bootstrap else lambda message: None
    )
    aucs = per_class_auc(scores, targets)
    defined = ~np.isnan(aucs)
    in_subset = subset_mask(names, subset_classes) & defined
    result = dict(
        names=list(names),
        num_images=num_images,
        num_patients=None if groups is None else int(groups.max()) + 1,
        positives=(targets == 1).sum(axis=0),
        negatives=(targets == 0).sum(axis=0),
        resample_unit=unit,
        bootstrap=bootstrap,
        ci_level=ci_level,
        auc=dict(point=aucs),
        mean=dict(point=float(aucs[defined].mean()) if defined.any() else np.nan),
        subset=None,
    )
    if subset_classes:
        undefined = sorted(
            set(subset_classes) - {n for n, k in zip(names, in_subset) if k}
        )
        if undefined:
            log(f'subset mean: AUC undefined for {undefined}, left out of it')
        result['subset'] = dict(
            classes=[n for n, keep in zip(names, in_subset) if keep],
            point=float(aucs[in_subset].mean()) if in_subset.any() else np.nan,
        )

    subsets = _subgroup_subsets(
        subgroups, meta, age_edges, min_group_size, scores, targets, groups, log
    )
    indicators = None
    if thresholds is not None:
        indicators = np.concatenate(
            [
                rate_indicators(
                    scores[:, c], targets[:, c], thresholds['thresholds'][c]
                )
                for c in range(num_classes)
            ],
            axis=1,
        )
    if bootstrap:
        plans = [auc_plan(scores[:, c], targets[:, c]) for c in range(num_classes)]
        for subset in subsets:
            defined_here = (
                []
                if subset['point'] is None
                else np.flatnonzero(~np.isnan(subset['point']))
            )
            subset['plans'] = {
                c: auc_plan(scores[:, c], targets[:, c], subset['mask'])
                for c in defined_here
            }
        overall = np.empty((bootstrap, num_classes))
        for subset in subsets:
            subset['samples'] = np.full((bootstrap, num_classes), np.nan)
        confusion = np.empty((bootstrap, num_classes, 4))
        for rows, counts in iter_bootstrap_counts(num_images, bootstrap, seed, groups):
            for c, plan in enumerate(plans):
                overall[rows, c] = planned_auc(plan, counts)
            for subset in subsets:
                for c, plan in subset['plans'].items():
                    subset['samples'][rows, c] = planned_auc(plan, counts)
            if indicators is not None:
                confusion[rows] = (counts.astype(np.float32) @ indicators).reshape(
                    -1, num_classes, 4
                )
        result['auc'].update(_interval(overall, ci_level))
        result['mean'].update(
            _interval(resampled_mean(overall, defined, seed), ci_level)
        )
        result['mean']['complete'] = _complete(overall, defined)
        if result['subset'] is not None:
            result['subset'].update(
                _interval(resampled_mean(overall, in_subset, seed), ci_level)
            )
    result['subgroups'] = _summarise_subgroups(subsets, ci_level, bootstrap, seed)
    result['calibration'] = dict(
        bins=calibration_bins,
        ece=np.array(
            [
                expected_calibration_error(
                    scores[:, c], targets[:, c], calibration_bins
                )
                for c in range(num_classes)
            ]
        ),
        reliability=[
            reliability_bins(scores[:, c], targets[:, c], calibration_bins)
            for c in range(num_classes)
        ],
    )
    result['operating_points'] = None
    if indicators is not None:
        point = rates_from_counts(indicators.sum(axis=0).reshape(num_classes, 4))
        op = dict(
            rule=thresholds['rule'],
            target=thresholds.get('target'),
            fitted_on=thresholds.get('fitted_on', ''),
            thresholds=thresholds['thresholds'],
            point=point,
        )
        if bootstrap:
            rates = rates_from_counts(confusion)
            op.update(_interval(rates, ci_level))
        result['operating_points'] = op
    return result


def subset_mask(names: Sequence[str], subset_classes: Sequence[str]) -> np.ndarray:
    """Boolean mask of ``subset_classes`` among ``names``; raises on a name
    that is not a class (a typo would otherwise shrink the subset silently)."""
    unknown = [name for name in subset_classes if name not in names]
    if unknown:
        raise ValueError(
            f'subset_classes {unknown} are not classes of this task; '
            f'the classes are {list(names)}'
        )
    return np.array([name in subset_classes for name in names], dtype=bool)


def _subgroup_subsets(
    subgroups: Sequence[str],
    meta: dict[str, list],
    age_edges: Sequence[int],
    min_group_size: int,
    scores: np.ndarray,
    targets: np.ndarray,
    groups: np.ndarray | None,
    log: Callable[[str], None],
) -> list[dict]:
    """One entry per (subgroup, value) with its mask and point AUCs."""
    subsets = []
    for name in subgroups:
        values = subgroup_values(name, meta, age_edges)
        if values is None:
            log(f'subgroup {name!r} skipped: the samples carry no such metadata')
            continue
        missing = int(sum(v is None for v in values))
        if missing:
            log(f'subgroup {name!r}: {missing} sample(s) without a value left out')
        present = {v for v in values if v is not None}
        order = age_bin_labels(age_edges) if name == 'age_bin' else sorted(present)
        for value in [v for v in order if v in present]:
            mask = values == value
            size = int(mask.sum())
            entry = dict(
                subgroup=name,
                value=value,
                mask=mask,
                num_images=size,
                num_patients=None if groups is None else np.unique(groups[mask]).size,
                point=None,
            )
            if size >= min_group_size:
                entry.update(
                    point=per_class_auc(scores[mask], targets[mask]),
                    positives=(targets[mask] == 1).sum(axis=0),
                )
            else:
                log(
                    f'subgroup {name}={value}: {size} image(s) < min_group_size='
                    f'{min_group_size}, no AUC'
                )
            subsets.append(entry)
    return subsets


def _summarise_subgroups(
    subsets: list[dict], ci_level: float, bootstrap: int, seed: int
) -> dict:
    """Per subgroup: each group's AUCs and mean, and the best-worst gap.

    The mean of every group of one subgroup is over the same classes (those
    defined in all of its scored groups), so group means are comparable.
    """
    summary = {}
    for name in dict.fromkeys(subset['subgroup'] for subset in subsets):
        members = [s for s in subsets if s['subgroup'] == name]
        scored = [s for s in members if s['point'] is not None]
        common = (
            np.logical_and.reduce([~np.isnan(s['point']) for s in scored])
            if scored
            else np.zeros(0, bool)
        )
        rows = []
        for subset in members:
            row = dict(
                value=subset['value'],
                num_images=subset['num_images'],
                num_patients=subset['num_patients'],
                auc=None,
                mean=None,
            )
            if subset['point'] is not None:
                row['positives'] = subset['positives']
                row['auc'] = dict(point=subset['point'])
                mean_point = (
                    float(subset['point'][common].mean()) if common.any() else np.nan
                )
                row['mean'] = dict(point=mean_point)
                if bootstrap:
                    row['auc'].update(_interval(subset['samples'], ci_level))
                    subset['mean_samples'] = resampled_mean(
                        subset['samples'], common, seed
                    )
                    row['mean'].update(_interval(subset['mean_samples'], ci_level))
            rows.append(row)
        gap = None
        ranked = [
            (row['mean']['point'], subset)
            for row, subset in zip(rows, members)
            if row['mean'] is not None and not np.isnan(row['mean']['point'])
        ]
        if len(ranked) >= 2:
            ranked.sort(key=lambda pair: pair[0])
            (worst_mean, worst), (best_mean, best) = ranked[0], ranked[-1]
            gap = dict(
                best=best['value'], worst=worst['value'], point=best_mean - worst_mean
            )
            if bootstrap:
                gap.update(
                    _interval(best['mean_samples'] - worst['mean_samples'], ci_level)
                )
        summary[name] = dict(groups=rows, classes_in_mean=common, gap=gap)
    return summary


def flat_metrics(result: dict) -> dict[str, float]:
    """The mmengine metric dict: AUCs and CIs in %, subgroup means and gaps, ECE."""
    metrics = {'mAUC': 100 * result['mean']['point']}
    if result['bootstrap']:
        metrics['mAUC_ci_low'] = 100 * float(result['mean']['low'])
        metrics['mAUC_ci_high'] = 100 * float(result['mean']['high'])
    subset = result.get('subset')
    if subset is not None:
        metrics['mAUC_subset'] = 100 * subset['point']
        if 'low' in subset:
            metrics['mAUC_subset_ci_low'] = 100 * float(subset['low'])
            metrics['mAUC_subset_ci_high'] = 100 * float(subset['high'])
    for c, name in enumerate(result['names']):
        metrics[name] = 100 * float(result['auc']['point'][c])
        if result['bootstrap']:
            metrics[f'{name}_ci_low'] = 100 * float(result['auc']['low'][c])
            metrics[f'{name}_ci_high'] = 100 * float(result['auc']['high'][c])
    for name, subgroup in result['subgroups'].items():
        for row in subgroup['groups']:
            if row['mean'] is not None:
                metrics[f'{name}={row["value"]}/mAUC'] = 100 * row['mean']['point']
        if subgroup['gap'] is not None:
            metrics[f'{name}/gap'] = 100 * subgroup['gap']['point']
    ece = result['calibration']['ece']
    if not np.isnan(ece).all():
        metrics['mECE'] = 100 * float(np.nanmean(ece))
    return metrics


def _fmt(point: float, low=None, high=None) -> str:
    if point is None or np.isnan(point):
        return 'undefined'
    text = f'{100 * point:.2f}'
    if low is not None and not np.isnan(low):
        text += f' [{100 * low:.2f}, {100 * high:.2f}]'
    return text


def _threshold(value: float) -> str:
    return 'n/a' if np.isnan(value) else f'{value:.4f}'


def format_tables(result: dict) -> str:
    """Plain-text tables for the log: classes, subgroups, operating points."""
    boot = result['bootstrap']
    unit = result['resample_unit']
    head = f'{result["num_images"]} images'
    if result['num_patients'] is not None:
        head += f', {result["num_patients"]} patients'
    if boot:
        head += (
            f'; {100 * result["ci_level"]:.0f}% CI from {boot} bootstrap resamples '
            f'of {unit}s (valid = resamples with both labels present)'
        )
    lines = [
        head,
        f'{"class":<22}{"pos":>7}{"neg":>8}  {"AUC (%)":<24}{"valid":>6}  ECE (%)',
    ]
    auc, ece = result['auc'], result['calibration']['ece']
    for c, name in enumerate(result['names']):
        interval = (auc['low'][c], auc['high'][c]) if boot else (None, None)
        valid = f'{auc["valid"][c]:>6}' if boot else f'{"-":>6}'
        lines.append(
            f'{name:<22}{result["positives"][c]:>7}{result["negatives"][c]:>8}  '
            f'{_fmt(auc["point"][c], *interval):<24}{valid}  {_fmt(ece[c])}'
        )
    mean = result['mean']
    interval = (mean['low'], mean['high']) if boot else (None, None)
    valid = f'{mean["valid"]:>6}' if boot else f'{"-":>6}'
    lines.append(f'{"mean (defined)":<37}  {_fmt(mean["point"], *interval):<24}{valid}')
    if boot:
        lines.append(
            f'  (every class defined in {mean["complete"]} of {boot} resamples; in '
            'the others an undefined class enters the mean with a draw from its valid '
            'resamples)'
        )
    subset = result.get('subset')
    if subset is not None:
        text = _fmt(subset['point'], subset.get('low'), subset.get('high'))
        valid = f'{subset["valid"]:>6}' if 'valid' in subset else f'{"-":>6}'
        lines.append(f'{"mean (subset)":<37}  {text:<24}{valid}')
        lines.append(f'  (subset: {", ".join(subset["classes"])})')
    for name, subgroup in result['subgroups'].items():
        classes = [
            n for n, keep in zip(result['names'], subgroup['classes_in_mean']) if keep
        ]
        lines.append(
            f'subgroup {name} (mean AUC over the {len(classes)} classes '
            'defined in every group):'
        )
        for row in subgroup['groups']:
            size = f'n={row["num_images"]}'
            if row['mean'] is None:
                lines.append(f'  {row["value"]:<14}{size:<10} too small')
                continue
            m = row['mean']
            text = _fmt(m['point'], m.get('low'), m.get('high'))
            lines.append(f'  {row["value"]:<14}{size:<10} {text}')
        gap = subgroup['gap']
        if gap is not None:
            text = _fmt(gap['point'], gap.get('low'), gap.get('high'))
            lines.append(f'  gap {gap["best"]} - {gap["worst"]}: {text}')
    op = result['operating_points']
    if op is not None:
        rule = op['rule'] + (f' {op["target"]}' if op.get('target') else '')
        lines.append(
            f'operating points ({rule}, thresholds fitted on {op["fitted_on"]}):'
        )
        lines.append(
            f'  {"class":<22}{"thr":>8}  ' + '  '.join(f'{r:<22}' for r in RATES)
        )
        for c, name in enumerate(result['names']):
            cells = [
                _fmt(
                    op['point'][c, k],
                    op['low'][c, k] if boot else None,
                    op['high'][c, k] if boot else None,
                )
                for k in range(len(RATES))
            ]
            lines.append(
                f'  {name:<22}{_threshold(op["thresholds"][c]):>8}  '
                + '  '.join(f'{cell:<22}' for cell in cells)
            )
    return '\n'.join(lines)


def to_jsonable(value: object) -> object:
    """The result dict with arrays as lists and NaN as ``None`` (for JSON)."""
    if isinstance(value, dict):
        return {str(k): to_jsonable(v) for k, v in value.items() if k != 'mask'}
    if isinstance(value, list | tuple):
        return [to_jsonable(v) for v in value]
    if isinstance(value, np.ndarray):
        return to_jsonable(value.tolist())
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and np.isnan(value):
        return None
    return value
