"""MultiLabelAUC / CXRClsMetrics against sklearn, bootstrap, out_dir files."""

import csv

import numpy as np
import pytest
import torch
from sklearn.metrics import f1_score, roc_auc_score

import cxr_plugins  # noqa: F401  (registration)
from cxr_plugins.evaluation.metrics import (
    CXRClsMetrics,
    MultiLabelAUC,
    bootstrap_auc,
    weighted_auc,
)


def _multilabel_samples(rng, num=120, classes=4):
    targets = (rng.random((num, classes)) < 0.3).astype(float)
    targets[:, 2] = 0  # undefined class: no positive
    targets[:5, 1] = -1  # ignored entries
    scores = np.clip(rng.random((num, classes)) + 0.4 * (targets == 1), 0, 1)
    samples = [
        dict(
            pred_score=torch.tensor(s),
            gt_score=torch.tensor(t),
            img_path=f'img_{i}.png',
        )
        for i, (s, t) in enumerate(zip(scores, targets))
    ]
    return samples, scores, targets


def test_multilabel_auc_matches_sklearn_with_undefined_and_ignored(tmp_path):
    rng = np.random.default_rng(0)
    samples, scores, targets = _multilabel_samples(rng)
    metric = MultiLabelAUC(out_dir=str(tmp_path))
    metric.dataset_meta = dict(classes=['A', 'B', 'C', 'Pleural Effusion'])
    metric.process(None, samples[:60])
    metric.process(None, samples[60:])
    with pytest.warns(UserWarning, match='undefined'):
        result = metric.evaluate(len(samples))
    valid = targets[:, 1] != -1
    expected = [
        roc_auc_score(targets[:, 0], scores[:, 0]),
        roc_auc_score(targets[valid, 1], scores[valid, 1]),
        roc_auc_score(targets[:, 3], scores[:, 3]),
    ]
    assert result['auc/A'] == pytest.approx(100 * expected[0])
    assert result['auc/B'] == pytest.approx(100 * expected[1])
    assert np.isnan(result['auc/C'])
    assert result['auc/mAUC'] == pytest.approx(100 * np.mean(expected))
    rows = list(csv.reader(open(tmp_path / 'predictions.csv')))
    assert rows[0][:2] == ['img_path', 'prob_A'] and len(rows) == 121
    # columns: img_path, 4 probabilities, 4 targets; sample 0 ignores class B
    assert rows[1][0] == 'img_0.png' and rows[1][6] == '-1'
    assert sorted(p.name for p in tmp_path.glob('*.png')) == [
        'roc_A.png',
        'roc_B.png',
        'roc_Pleural_Effusion.png',
    ]


def test_bootstrap_ci_shape_determinism_and_coverage():
    rng = np.random.default_rng(1)
    samples, scores, targets = _multilabel_samples(rng, num=300)
    first = bootstrap_auc(scores, targets, 200, seed=3)
    again = bootstrap_auc(scores, targets, 200, seed=3)
    other = bootstrap_auc(scores, targets, 200, seed=4)
    assert first.shape == (200, 4)
    np.testing.assert_array_equal(first, again)
    assert not np.array_equal(first, other)
    assert np.isnan(first[:, 2]).all()
    metric = MultiLabelAUC(bootstrap=200, seed=3)
    metric.process(None, samples)
    with pytest.warns(UserWarning):
        result = metric.evaluate(len(samples))
    assert result['auc/mAUC_ci_low'] < result['auc/mAUC'] < result['auc/mAUC_ci_high']
    assert (
        result['auc/class_0_ci_low']
        < result['auc/class_0']
        < result['auc/class_0_ci_high']
    )
    assert np.isnan(result['auc/class_2_ci_low'])


def test_weighted_auc_equals_sklearn_on_expanded_resample():
    rng = np.random.default_rng(2)
    scores = np.round(rng.random(80), 1)  # many ties
    labels = (rng.random(80) < 0.4).astype(int)
    labels[:3] = -1
    counts = rng.integers(0, 3, size=(5, 80))
    got = weighted_auc(scores, labels, counts)
    for row, weights in zip(got, counts):
        index = np.repeat(np.arange(80), weights)
        index = index[labels[index] != -1]
        assert row == pytest.approx(roc_auc_score(labels[index], scores[index]))


def test_multilabel_auc_rejects_soft_targets():
    metric = MultiLabelAUC()
    metric.process(
        None,
        [dict(pred_score=torch.tensor([0.2, 0.4]), gt_score=torch.tensor([0.5, 1.0]))]
        * 4,
    )
    with pytest.raises(ValueError, match='must be 0, 1'):
        metric.evaluate(4)


def test_cxr_cls_metrics_binary_and_multiclass(tmp_path):
    rng = np.random.default_rng(0)
    labels = rng.integers(0, 3, 90)
    logits = rng.normal(size=(90, 3)) + 1.5 * np.eye(3)[labels]
    probs = np.exp(logits) / np.exp(logits).sum(1, keepdims=True)
    metric = CXRClsMetrics(out_dir=str(tmp_path))
    metric.dataset_meta = dict(classes=['normal', 'pneumonia', 'COVID-19'])
    metric.process(
        None,
        [
            dict(pred_score=torch.tensor(p), gt_label=torch.tensor([y]))
            for p, y in zip(probs, labels)
        ],
    )
    result = metric.evaluate(90)
    predicted = probs.argmax(1)
    assert result['cls/accuracy'] == pytest.approx(100 * (predicted == labels).mean())
    assert result['cls/f1'] == pytest.approx(
        100 * f1_score(labels, predicted, average='macro')
    )
    assert result['cls/auc'] == pytest.approx(
        100 * roc_auc_score(labels, probs, multi_class='ovr')
    )
    covid = labels == 2
    assert result['cls/sensitivity_COVID-19'] == pytest.approx(
        100 * (predicted[covid] == 2).mean()
    )
    assert (tmp_path / 'predictions.csv').is_file()

    binary = CXRClsMetrics()
    binary_probs = probs[:, :2] / probs[:, :2].sum(1, keepdims=True)
    binary_labels = (labels > 0).astype(int)
    binary.process(
        None,
        [
            dict(pred_score=torch.tensor(p), gt_label=torch.tensor([y]))
            for p, y in zip(binary_probs, binary_labels)
        ],
    )
    result = binary.evaluate(90)
    assert result['cls/auc'] == pytest.approx(
        100 * roc_auc_score(binary_labels, binary_probs[:, 1])
    )
    assert result['cls/f1'] == pytest.approx(
        100 * f1_score(binary_labels, binary_probs.argmax(1))
    )


def test_cxr_cls_metrics_auc_with_a_class_absent_from_ground_truth():
    rng = np.random.default_rng(1)
    labels = rng.integers(0, 2, 60)  # no COVID-19 sample in this split
    probs = rng.dirichlet(np.ones(3), size=60)
    metric = CXRClsMetrics()
    metric.dataset_meta = dict(classes=['normal', 'pneumonia', 'COVID-19'])
    metric.process(
        None,
        [
            dict(pred_score=torch.tensor(p), gt_label=torch.tensor([y]))
            for p, y in zip(probs, labels)
        ],
    )
    result = metric.evaluate(60)
    expected = np.mean([roc_auc_score(labels == c, probs[:, c]) for c in (0, 1)])
    assert result['cls/auc'] == pytest.approx(100 * expected)
