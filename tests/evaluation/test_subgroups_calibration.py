"""Subgroup AUCs and gaps, ECE / reliability bins, validation thresholds at test."""

import json

import numpy as np
import pytest
import torch
from mmengine.logging import MMLogger
from mmpretrain.structures import DataSample
from sklearn.calibration import calibration_curve
from sklearn.metrics import roc_auc_score

import cxr_plugins  # noqa: F401  (registration)
from cxr_plugins.evaluation.metrics import MultiLabelAUC
from cxr_plugins.evaluation.metrics.calibration import (
    expected_calibration_error,
    reliability_bins,
)
from cxr_plugins.evaluation.metrics.operating_points import (
    choose_threshold,
    load_thresholds,
)
from cxr_plugins.evaluation.metrics.subgroups import age_bin, age_bin_labels

NAMES = ['Effusion', 'Nodule']


def _cohort(rng, num_patients=160, per_patient=2):
    """Patients with sex/view/age; the model is worse on women (weaker signal)."""
    patients = np.repeat(np.arange(num_patients), per_patient)
    sex = np.where(patients % 2 == 0, 'M', 'F')
    view = np.where(rng.random(patients.size) < 0.5, 'PA', 'AP')
    age = np.repeat(rng.integers(18, 95, num_patients), per_patient)
    age[3] = 414  # NIH has such entries: implausible -> missing
    targets = (rng.random((patients.size, 2)) < 0.35).astype(float)
    strength = np.where(sex == 'M', 2.0, 0.4)[:, None]
    logits = rng.normal(size=targets.shape) + strength * targets
    return patients, sex, view, age, targets, 1 / (1 + np.exp(-logits))


def _data_samples(patients, sex, view, age, targets, scores, keys):
    """Packed samples as the evaluator sees them (DataSample.to_dict())."""
    samples = []
    for i in range(len(patients)):
        sample = DataSample()
        meta = dict(
            img_path=f'img_{i}.png',
            patient_id=f'P{patients[i]:05d}',
            sex=sex[i],
            view=view[i],
            age=int(age[i]),
        )
        sample.set_metainfo({k: v for k, v in meta.items() if k in keys})
        sample.set_pred_score(torch.tensor(scores[i]))
        sample.set_gt_score(torch.tensor(targets[i]))
        samples.append(sample.to_dict())
    return samples


def test_age_bins_are_documented_and_reject_implausible_ages():
    assert age_bin_labels() == ['<40', '40-59', '60-79', '>=80']
    assert [age_bin(a) for a in (5, 39.9, 40, 79, 80, 120)] == [
        '<40', '<40', '40-59', '60-79', '>=80', '>=80',
    ]  # fmt: skip
    assert age_bin(414) is None and age_bin('') is None and age_bin(None) is None
    with pytest.raises(ValueError, match="subgroups \\['age'\\] unknown"):
        MultiLabelAUC(subgroups=['age'])


def test_subgroup_aucs_with_intervals_and_gap():
    rng = np.random.default_rng(0)
    patients, sex, view, age, targets, scores = _cohort(rng)
    metric = MultiLabelAUC(bootstrap=200, subgroups=['sex', 'view', 'age_bin'])
    metric.dataset_meta = dict(classes=NAMES)
    keys = ('img_path', 'patient_id', 'sex', 'view', 'age')
    metric.process(None, _data_samples(patients, sex, view, age, targets, scores, keys))
    result = metric.evaluate(len(patients))
    for value in ('M', 'F'):
        mask = sex == value
        expected = np.mean(
            [roc_auc_score(targets[mask, c], scores[mask, c]) for c in range(2)]
        )
        assert result[f'auc/sex={value}/mAUC'] == pytest.approx(100 * expected)
    assert result['auc/sex/gap'] == pytest.approx(
        result['auc/sex=M/mAUC'] - result['auc/sex=F/mAUC']
    )
    assert result['auc/sex/gap'] > 10  # built in: much weaker signal for F
    assert {'auc/view=AP/mAUC', 'auc/view=PA/mAUC', 'auc/age_bin=>=80/mAUC'} <= set(
        result
    )


def test_subgroup_interval_and_gap_from_the_same_resamples():
    from cxr_plugins.evaluation.metrics.clinical import evaluate_scores

    rng = np.random.default_rng(1)
    patients, sex, view, age, targets, scores = _cohort(rng)
    notes = []
    result = evaluate_scores(
        scores,
        targets,
        NAMES,
        dict(patient_id=list(patients), sex=list(sex), age=list(age)),
        bootstrap=200,
        subgroups=['sex', 'view', 'age_bin'],
        log=notes.append,
    )
    sex_rows = {row['value']: row for row in result['subgroups']['sex']['groups']}
    for row in sex_rows.values():
        assert row['mean']['low'] < row['mean']['point'] < row['mean']['high']
        assert row['num_patients'] == 80
    gap = result['subgroups']['sex']['gap']
    assert (gap['best'], gap['worst']) == ('M', 'F')
    assert 0 < gap['low'] < gap['point'] < gap['high']
    # view is absent from the metadata: skipped with one note, no crash
    assert 'view' not in result['subgroups']
    assert any("subgroup 'view' skipped" in note for note in notes)
    assert any("'age_bin': 1 sample(s) without a value" in note for note in notes)


def test_missing_metadata_turns_features_off_with_a_log_line(capsys):
    rng = np.random.default_rng(2)
    patients, sex, view, age, targets, scores = _cohort(rng, num_patients=40)
    metric = MultiLabelAUC(bootstrap=50, subgroups=['sex'])
    metric.process(
        None, _data_samples(patients, sex, view, age, targets, scores, ('img_path',))
    )
    logger = MMLogger.get_instance('test_subgroups_missing', log_level='INFO')
    assert logger is MMLogger.get_current_instance()
    result = metric.evaluate(len(patients))
    assert 'auc/mAUC_ci_low' in result
    assert not any(key.startswith('auc/sex') for key in result)
    log = capsys.readouterr().out
    assert 'bootstrap resamples images: the samples carry no patient_id' in log
    assert "subgroup 'sex' skipped" in log


def test_ece_and_reliability_bins_match_sklearn():
    rng = np.random.default_rng(3)
    scores = rng.random(500)
    labels = (rng.random(500) < scores**2).astype(int)  # over-confident model
    labels[:10] = -1
    bins = reliability_bins(scores, labels, 10)
    valid = labels != -1
    frequency, confidence = calibration_curve(
        labels[valid], scores[valid], n_bins=10, strategy='uniform'
    )
    filled = bins['count'] > 0
    np.testing.assert_allclose(bins['frequency'][filled], frequency)
    np.testing.assert_allclose(bins['confidence'][filled], confidence)
    by_hand = sum(
        np.sum(sel)
        / valid.sum()
        * abs(labels[valid][sel].mean() - scores[valid][sel].mean())
        for sel in [
            (np.minimum((scores[valid] * 10).astype(int), 9) == b) for b in range(10)
        ]
        if sel.any()
    )
    assert expected_calibration_error(scores, labels, 10) == pytest.approx(by_hand)
    perfect = np.repeat([0.05, 0.95], 200)
    truth = np.r_[np.zeros(190), np.ones(10), np.zeros(10), np.ones(190)].astype(int)
    assert expected_calibration_error(perfect, truth) == pytest.approx(0.0, abs=1e-12)


def test_threshold_rules():
    rng = np.random.default_rng(4)
    labels = (rng.random(300) < 0.3).astype(int)
    scores = rng.normal(size=300) + 1.5 * labels
    youden = choose_threshold(scores, labels, 'youden')
    best = max(
        (scores[labels == 1] >= t).mean() - (scores[labels == 0] >= t).mean()
        for t in scores
    )
    chosen = (scores[labels == 1] >= youden).mean() - (
        scores[labels == 0] >= youden
    ).mean()
    assert chosen == pytest.approx(best)
    screening = choose_threshold(scores, labels, 'sensitivity', 0.95)
    assert (scores[labels == 1] >= screening).mean() >= 0.95
    higher = np.sort(scores[scores > screening])[0]
    assert (scores[labels == 1] >= higher).mean() < 0.95
    with pytest.raises(ValueError, match='needs a target'):
        choose_threshold(scores, labels, 'sensitivity')


def test_thresholds_fitted_on_validation_are_applied_at_test(tmp_path):
    rng = np.random.default_rng(5)
    path = tmp_path / 'thresholds.json'
    keys = ('img_path', 'patient_id')
    val = _cohort(rng)
    fit = MultiLabelAUC(
        operating_point='sensitivity', target_sensitivity=0.9, thresholds_out=str(path)
    )
    fit.dataset_meta = dict(classes=NAMES)
    fit.process(None, _data_samples(*val, keys))
    fit.evaluate(len(val[0]))
    saved = json.loads(path.read_text())
    assert saved['rule'] == 'sensitivity' and saved['target'] == 0.9
    assert set(saved['thresholds']) == set(NAMES)

    test = _cohort(rng)
    apply = MultiLabelAUC(bootstrap=100, thresholds_in=str(path), out_dir=str(tmp_path))
    apply.dataset_meta = dict(classes=NAMES)
    apply.process(None, _data_samples(*test, keys))
    apply.evaluate(len(test[0]))
    op = json.loads((tmp_path / 'evaluation.json').read_text())['operating_points']
    thresholds = load_thresholds(path, NAMES)['thresholds']
    scores, targets = test[5], test[4]
    for c in range(2):
        decided = scores[:, c] >= thresholds[c]
        positive = targets[:, c] == 1
        sensitivity = decided[positive].mean()
        npv = (~positive[~decided]).mean()
        assert op['point'][c][0] == pytest.approx(sensitivity)
        assert op['point'][c][3] == pytest.approx(npv)
        assert op['low'][c][0] <= sensitivity <= op['high'][c][0]
    with pytest.raises(KeyError, match='no threshold for class'):
        load_thresholds(path, ['Effusion', 'Hernia'])
