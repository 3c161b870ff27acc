"""Patient-level (cluster) bootstrap: counts, per-class validity, interval width."""

import numpy as np
import pytest
import torch

import cxr_plugins  # noqa: F401  (registration)
from cxr_plugins.evaluation.metrics import CXRClsMetrics, MultiLabelAUC
from cxr_plugins.evaluation.metrics.auc_math import (
    bootstrap_auc,
    bootstrap_counts,
    iter_bootstrap_counts,
    patient_codes,
    percentile_ci,
    valid_resamples,
)
from cxr_plugins.evaluation.metrics.clinical import evaluate_scores


def _separable_data(rng, num_patients=150, classes=2):
    targets = (rng.random((num_patients, classes)) < 0.4).astype(float)
    scores = rng.normal(size=targets.shape) + 1.0 * targets
    return scores, targets


def test_cluster_counts_follow_the_patient():
    groups = patient_codes(['p2', 'p1', 'p2', 'p3', 'p2'])
    assert groups.tolist() == [1, 0, 1, 2, 1]
    counts = bootstrap_counts(5, 50, np.random.default_rng(0), groups)
    # the three images of p2 always share one multiplicity
    assert (counts[:, 0] == counts[:, 2]).all() and (counts[:, 2] == counts[:, 4]).all()
    # three patients drawn per resample
    per_patient = counts[:, [1, 0, 3]]
    assert (per_patient.sum(axis=1) == 3).all()


def test_duplicated_images_of_a_patient_widen_only_the_image_level_lie():
    """Copying every image 4x: image resampling shrinks the CI by about 2x
    (it takes the copies for new patients); patient resampling keeps it."""
    rng = np.random.default_rng(0)
    scores, targets = _separable_data(rng)
    copies = 4
    dup_scores = np.repeat(scores, copies, axis=0)
    dup_targets = np.repeat(targets, copies, axis=0)
    patients = np.repeat(np.arange(len(scores)), copies)

    def width(s, t, groups):
        low, high = percentile_ci(bootstrap_auc(s, t, 400, seed=1, groups=groups))
        return high - low

    original = width(scores, targets, None)
    image_level = width(dup_scores, dup_targets, None)
    patient_level = width(dup_scores, dup_targets, patient_codes(patients))
    assert (patient_level > 1.6 * image_level).all()
    np.testing.assert_allclose(patient_level, original, rtol=0.2)


def test_duplicating_one_patient_widens_the_patient_level_interval():
    """One patient's image copied 20 / 40 times: that patient now weighs a lot,
    and whether a resample draws it decides much of the AUC, so the
    patient-level interval widens; image resampling treats the copies as new
    evidence and narrows instead."""
    rng = np.random.default_rng(0)
    num = 120
    targets = (rng.random((num, 1)) < 0.4).astype(float)
    scores = rng.normal(size=targets.shape) + 1.0 * targets
    patient = np.flatnonzero(targets[:, 0] == 1)[0]

    def width(index, by_patient):
        groups = patient_codes(index) if by_patient else None
        resampled = bootstrap_auc(scores[index], targets[index], 1000, 1, groups=groups)
        low, high = percentile_ci(resampled)
        return float((high - low)[0])

    original = width(np.arange(num), True)
    widths = []
    for copies in (20, 40):
        index = np.r_[np.arange(num), np.full(copies, patient)]
        widths.append(width(index, True))
        assert width(index, False) < original
    assert original < widths[0] < widths[1]


def test_degenerate_resamples_are_dropped_per_class():
    """A class whose positives all belong to one patient is undefined in the
    resamples that miss that patient; the other class keeps every resample."""
    rng = np.random.default_rng(3)
    num = 60
    patients = np.repeat(np.arange(30), 2)
    targets = np.zeros((num, 2))
    targets[:, 0] = rng.random(num) < 0.5
    targets[:2, 1] = 1  # both images of patient 0
    scores = rng.random((num, 2)) + 0.3 * targets
    groups = patient_codes(patients)
    samples = bootstrap_auc(scores, targets, 300, seed=5, groups=groups)
    drawn = np.concatenate(
        [c[:, 0] > 0 for _, c in iter_bootstrap_counts(num, 300, 5, groups)]
    )
    assert valid_resamples(samples).tolist() == [300, int(drawn.sum())]
    assert 0 < drawn.sum() < 300
    np.testing.assert_array_equal(np.isnan(samples[:, 1]), ~drawn)

    result = evaluate_scores(
        scores,
        targets,
        ['common', 'rare'],
        dict(patient_id=[f'p{p}' for p in patients]),
        bootstrap=300,
        seed=5,
        log=lambda message: None,
    )
    assert result['resample_unit'] == 'patient' and result['num_patients'] == 30
    assert result['auc']['valid'].tolist() == [300, int(drawn.sum())]
    assert result['mean']['valid'] == 300
    assert result['mean']['complete'] == int(drawn.sum())
    assert not np.isnan(result['auc']['low']).any()


def _packed(scores, targets, patients):
    return [
        dict(
            pred_score=torch.tensor(s),
            gt_score=torch.tensor(t),
            img_path=f'img_{i}.png',
            patient_id=p,
        )
        for i, (s, t, p) in enumerate(zip(scores, targets, patients))
    ]


def test_metric_resamples_patients_when_ids_are_present(tmp_path):
    rng = np.random.default_rng(4)
    scores, targets = _separable_data(rng, num_patients=80)
    scores, targets = np.repeat(scores, 3, axis=0), np.repeat(targets, 3, axis=0)
    patients = [f'P{i:03d}' for i in np.repeat(np.arange(80), 3)]
    widths = {}
    for unit in ('auto', 'image'):
        metric = MultiLabelAUC(bootstrap=200, resample_unit=unit, out_dir=str(tmp_path))
        metric.process(None, _packed(scores, targets, patients))
        result = metric.evaluate(len(scores))
        widths[unit] = result['auc/mAUC_ci_high'] - result['auc/mAUC_ci_low']
    assert widths['auto'] > 1.3 * widths['image']
    header = (tmp_path / 'predictions.csv').read_text().splitlines()[0]
    assert header.startswith('img_path,patient_id,prob_class_0')

    forced = MultiLabelAUC(bootstrap=10, resample_unit='patient')
    forced.process(
        None,
        [
            dict(pred_score=torch.tensor(s), gt_score=torch.tensor(t))
            for s, t in zip(scores, targets)
        ],
    )
    with pytest.raises(ValueError, match='carry no patient_id'):
        forced.evaluate(len(scores))


def test_binary_cls_metric_reports_an_auc_interval():
    rng = np.random.default_rng(5)
    labels = rng.integers(0, 2, 120)
    positive = 1 / (1 + np.exp(-(rng.normal(size=120) + 1.5 * labels)))
    probs = np.stack([1 - positive, positive], axis=1)
    metric = CXRClsMetrics(bootstrap=200)
    metric.dataset_meta = dict(classes=['normal', 'abnormal'])
    metric.process(
        None,
        [
            dict(
                pred_score=torch.tensor(p),
                gt_label=torch.tensor([y]),
                patient_id=i // 2,
            )
            for i, (p, y) in enumerate(zip(probs, labels))
        ],
    )
    result = metric.evaluate(120)
    assert result['cls/auc_ci_low'] < result['cls/auc'] < result['cls/auc_ci_high']
    assert 0 < result['cls/auc_mECE'] < 100


def test_weighted_auc_edge_cases_and_reference():
    from sklearn.metrics import roc_auc_score

    from cxr_plugins.evaluation.metrics.auc_math import weighted_auc

    weights = np.array([[1, 1, 1, 1], [0, 2, 1, 1], [2, 0, 0, 2]])
    assert np.isnan(weighted_auc(np.arange(4.0), np.ones(4), weights)).all()
    labels = np.array([1, 0, 1, 0])
    scores = np.array([0.5, 0.5, 0.9, 0.1])  # a tie across the classes
    got = weighted_auc(scores, labels, weights)
    assert got[0] == pytest.approx(roc_auc_score(labels, scores))
    assert got[1] == pytest.approx(roc_auc_score([0, 0, 1, 0], [0.5, 0.5, 0.9, 0.1]))
    assert got[2] == pytest.approx(roc_auc_score([1, 1, 0, 0], [0.5, 0.5, 0.1, 0.1]))


def test_resampled_mean_fills_undefined_classes_from_their_own_resamples():
    from cxr_plugins.evaluation.metrics.auc_math import resampled_mean

    rng = np.random.default_rng(0)
    common = rng.normal(0.8, 0.02, 2000)
    rare = rng.normal(0.6, 0.10, 2000)
    rare[rng.random(2000) < 0.4] = np.nan  # undefined in 40 % of resamples
    samples = np.stack([common, rare, np.full(2000, np.nan)], axis=1)
    chosen = np.array([True, True, False])
    got = resampled_mean(samples, chosen, seed=1)
    np.testing.assert_array_equal(got, resampled_mean(samples, chosen, seed=1))
    defined = ~np.isnan(rare)
    np.testing.assert_allclose(got[defined], (common[defined] + rare[defined]) / 2)
    # the rare class keeps its spread in the filled resamples
    assert np.std(2 * got[~defined] - common[~defined]) == pytest.approx(
        np.nanstd(rare), rel=0.1
    )
    assert np.isnan(resampled_mean(samples, np.array([True, False, True]))).all()


def test_subset_mean_is_the_mean_of_its_classes_with_an_interval():
    rng = np.random.default_rng(6)
    scores, targets = _separable_data(rng, num_patients=120, classes=4)
    scores[:, 3] = rng.normal(size=120)  # a class at chance
    metric = MultiLabelAUC(bootstrap=200, subset_classes=['class_0', 'class_2'])
    metric.process(None, _packed(scores, targets, [f'P{i}' for i in range(120)]))
    result = metric.evaluate(len(scores))
    expected = (result['auc/class_0'] + result['auc/class_2']) / 2
    assert result['auc/mAUC_subset'] == pytest.approx(expected)
    assert result['auc/mAUC_subset'] > result['auc/mAUC']
    assert (
        result['auc/mAUC_subset_ci_low']
        < result['auc/mAUC_subset']
        < result['auc/mAUC_subset_ci_high']
    )
    # the log table and the HTML report carry the subset row too
    from cxr_plugins.evaluation.metrics.clinical import format_tables
    from cxr_plugins.visualization.report import classification_section

    full = evaluate_scores(
        scores,
        targets,
        ['a', 'b', 'c', 'd'],
        bootstrap=50,
        subset_classes=['a', 'c'],
        log=lambda message: None,
    )
    assert '(subset: a, c)' in format_tables(full)
    assert 'mean (subset: a, c)' in classification_section(full, scores, targets)
    # A misspelt class fails when the loop hands over the dataset's classes,
    # before any training, naming the class.
    misspelt = MultiLabelAUC(subset_classes=['Efusion'])
    with pytest.raises(ValueError, match=r"\['Efusion'\] are not classes"):
        misspelt.dataset_meta = dict(classes=('Atelectasis', 'Effusion'))
