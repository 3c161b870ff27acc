"""Fast DeLong against the definition and pROC; compare_models.py end to end."""

import math

import numpy as np
import pytest
from cxr_test_utils import load_tool

from cxr_plugins.evaluation.metrics.delong import (
    delong_covariance,
    delong_test,
    holm_adjust,
)

# pROC's aSAH data set (Turck et al. 2010; 113 patients, outcome "Poor" = 1,
# 41 positives) as shipped with the R package pROC, and pROC's documented
# result of roc.test(roc(outcome, s100b), roc(outcome, wfns)) (DeLong, paired):
# AUC 0.7314 vs 0.8237, Z = -2.209, p-value = 0.02718 (pROC manual, roc.test).
ASAH_OUTCOME = [
    0, 0, 0, 0, 1, 1, 0, 1, 0, 0, 1, 0, 1, 1, 0, 0, 1, 0, 1, 1, 1, 0, 1, 0, 0, 0, 0, 0,
    0, 0, 0, 0, 1, 0, 0, 1, 1, 0, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 0, 0, 0, 1, 0,
    0, 0, 1, 0, 1, 0, 0, 1, 1, 1, 0, 1, 1, 0, 1, 1, 1, 1, 0, 0, 0, 1, 1, 0, 1, 0, 0, 0,
    0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1, 0, 0, 0, 1, 0, 0,
    0,
]  # fmt: skip
ASAH_S100B = [
    0.13, 0.14, 0.1, 0.04, 0.13, 0.1, 0.47, 0.16, 0.18, 0.1, 0.12, 0.1, 0.44, 0.71,
    0.04, 0.08, 0.49, 0.04, 0.07, 0.33, 0.09, 0.09, 0.07, 0.11, 0.07, 0.17, 0.07, 0.11,
    0.13, 0.19, 0.05, 0.16, 0.41, 0.14, 0.34, 0.35, 0.48, 0.09, 0.96, 0.25, 0.5, 0.46,
    0.16, 0.07, 0.43, 0.45, 0.11, 0.08, 0.09, 0.86, 0.52, 0.08, 0.06, 0.13, 2.07, 0.1,
    0.14, 0.15, 0.07, 0.06, 0.77, 0.05, 0.09, 0.3, 0.03, 0.09, 0.04, 0.23, 0.7, 0.09,
    0.27, 0.71, 0.08, 0.26, 0.08, 0.16, 0.09, 0.13, 0.1, 0.08, 0.11, 0.33, 0.11, 0.28,
    0.07, 0.1, 0.32, 0.22, 0.07, 0.05, 0.24, 0.38, 0.1, 0.15, 0.08, 0.14, 0.1, 0.07,
    0.04, 0.19, 0.56, 0.14, 0.58, 0.32, 0.82, 0.74, 0.15, 0.47, 0.17, 0.44, 0.15, 0.5,
    0.48,
]  # fmt: skip
ASAH_WFNS = [
    1, 1, 1, 1, 3, 2, 5, 4, 1, 2, 5, 2, 5, 5, 1, 2, 5, 2, 2, 5, 2, 1, 1, 1, 1, 2, 1, 2,
    1, 1, 3, 4, 2, 1, 4, 5, 4, 1, 4, 2, 5, 5, 1, 1, 2, 4, 1, 1, 2, 5, 5, 2, 1, 2, 5, 1,
    2, 2, 2, 1, 5, 1, 1, 2, 5, 2, 1, 4, 5, 2, 4, 4, 1, 4, 1, 2, 1, 4, 2, 1, 2, 3, 2, 4,
    2, 1, 4, 5, 1, 1, 5, 4, 2, 2, 1, 1, 1, 3, 1, 2, 5, 2, 2, 5, 5, 5, 2, 4, 4, 5, 1, 1,
    1,
]  # fmt: skip


def slow_delong(scores: np.ndarray, labels: np.ndarray):
    """DeLong et al. (1988) from the definition: the m x n Mann-Whitney kernel
    psi(x, y) = 1 if x > y, 1/2 if equal, 0 otherwise; placement values
    V10_i = mean_j psi(X_i, Y_j), V01_j = mean_i psi(X_i, Y_j);
    S = S10 / m + S01 / n with S10, S01 the sample covariances."""
    x, y = scores[:, labels == 1], scores[:, labels == 0]
    m, n = x.shape[1], y.shape[1]
    v10 = np.zeros((len(scores), m))
    v01 = np.zeros((len(scores), n))
    for k in range(len(scores)):
        for i in range(m):
            for j in range(n):
                psi = 1.0 if x[k, i] > y[k, j] else 0.5 if x[k, i] == y[k, j] else 0.0
                v10[k, i] += psi / n
                v01[k, j] += psi / m
    aucs = v10.mean(axis=1)
    s10 = (v10 - aucs[:, None]) @ (v10 - aucs[:, None]).T / (m - 1)
    s01 = (v01 - aucs[:, None]) @ (v01 - aucs[:, None]).T / (n - 1)
    return aucs, s10 / m + s01 / n


def test_fast_delong_equals_the_definition_with_ties():
    rng = np.random.default_rng(0)
    labels = (rng.random(70) < 0.35).astype(int)
    scores = np.stack(
        [
            np.round(rng.normal(size=70) + labels, 1),  # many ties
            rng.normal(size=70) + 0.5 * labels,
            rng.integers(0, 4, 70).astype(float),  # ordinal, heavy ties
        ]
    )
    fast_aucs, fast_cov = delong_covariance(scores, labels)
    slow_aucs, slow_cov = slow_delong(scores, labels)
    np.testing.assert_allclose(fast_aucs, slow_aucs, atol=1e-12)
    np.testing.assert_allclose(fast_cov, slow_cov, atol=1e-12)
    test = delong_test(scores[0], scores[1], labels)
    variance = slow_cov[0, 0] + slow_cov[1, 1] - 2 * slow_cov[0, 1]
    slow_z = (slow_aucs[0] - slow_aucs[1]) / math.sqrt(variance)
    assert test['z'] == pytest.approx(slow_z, abs=1e-6)
    assert test['p'] == pytest.approx(math.erfc(abs(slow_z) / math.sqrt(2)), abs=1e-6)


def test_delong_reproduces_the_proc_worked_example():
    labels = np.array(ASAH_OUTCOME)
    assert (labels.size, labels.sum()) == (113, 41)
    test = delong_test(np.array(ASAH_S100B), np.array(ASAH_WFNS, float), labels)
    assert round(test['auc_a'], 4) == 0.7314 and round(test['auc_b'], 4) == 0.8237
    assert round(test['z'], 3) == -2.209
    assert round(test['p'], 5) == 0.02718
    scores = np.stack([ASAH_S100B, ASAH_WFNS]).astype(float)
    slow_aucs, slow_cov = slow_delong(scores, labels)
    fast_aucs, fast_cov = delong_covariance(scores, labels)
    np.testing.assert_allclose(fast_cov, slow_cov, atol=1e-12)


def test_delong_refuses_one_class_and_handles_identical_models():
    with pytest.raises(ValueError, match='both classes'):
        delong_test(np.ones(4), np.ones(4), np.ones(4, int))
    same = delong_test(np.arange(6.0), np.arange(6.0), np.array([0, 1, 0, 1, 1, 0]))
    assert (same['z'], same['p']) == (0.0, 1.0)


def test_holm_adjustment():
    adjusted = holm_adjust(np.array([0.01, np.nan, 0.04, 0.03]))
    # sorted 0.01, 0.03, 0.04 -> 3*0.01, max(0.03, 2*0.03), max(0.06, 1*0.04)
    np.testing.assert_allclose(adjusted[[0, 3, 2]], [0.03, 0.06, 0.06])
    assert np.isnan(adjusted[1])


def _write_predictions(path, img_paths, patients, scores, targets, names):
    from cxr_plugins.evaluation.metrics.multilabel_auc import write_predictions_csv

    write_predictions_csv(
        path, list(img_paths), dict(patient_id=list(patients)), names, scores, targets
    )


def test_compare_models_tool_matches_the_reference_and_refuses_mismatches(
    tmp_path, capsys
):
    import pandas as pd

    main = load_tool('tools/analysis/compare_models.py').main

    rng = np.random.default_rng(1)
    num, names = 90, ['Effusion', 'Hernia']
    targets = (rng.random((num, 2)) < 0.4).astype(float)
    targets[:4, 1] = -1  # ignored entries are left out of that class
    score_a = rng.normal(size=(num, 2)) + 1.2 * (targets == 1)
    score_b = rng.normal(size=(num, 2)) + 0.4 * (targets == 1)
    sigmoid = lambda v: 1 / (1 + np.exp(-v))  # noqa: E731
    images = [f'images/{i:04d}.png' for i in range(num)]
    patients = [f'p{i // 3}' for i in range(num)]
    a, b = tmp_path / 'a.csv', tmp_path / 'b.csv'
    _write_predictions(a, images, patients, sigmoid(score_a), targets, names)
    _write_predictions(b, images, patients, sigmoid(score_b), targets, names)
    out = tmp_path / 'cmp.csv'
    assert main([str(a), str(b), '--bootstrap', '200', '--out', str(out)]) == 0
    printed = capsys.readouterr().out
    assert '30 patients' in printed and 'Holm' in printed
    table = pd.read_csv(out).set_index('class')
    for c, name in enumerate(names):
        valid = targets[:, c] != -1
        read_a = pd.read_csv(a)[f'prob_{name}'].to_numpy()[valid]
        read_b = pd.read_csv(b)[f'prob_{name}'].to_numpy()[valid]
        aucs, cov = slow_delong(np.stack([read_a, read_b]), targets[valid, c])
        z = (aucs[0] - aucs[1]) / math.sqrt(cov[0, 0] + cov[1, 1] - 2 * cov[0, 1])
        assert table.loc[name, 'z'] == pytest.approx(z, abs=1e-6)
        assert table.loc[name, 'p'] == pytest.approx(
            math.erfc(abs(z) / math.sqrt(2)), abs=1e-6
        )
        assert table.loc[name, 'low'] < table.loc[name, 'difference']
        assert table.loc[name, 'difference'] < table.loc[name, 'high']
    assert table.loc['mean', 'difference'] == pytest.approx(
        table.loc[names, 'difference'].mean()
    )

    swapped = tmp_path / 'swapped.csv'
    order = np.r_[1, 0, 2:num]
    _write_predictions(
        swapped,
        np.array(images)[order],
        np.array(patients)[order],
        sigmoid(score_b)[order],
        targets[order],
        names,
    )
    assert main([str(a), str(swapped)]) == 2
    assert 'line 2: ' in capsys.readouterr().err
    relabelled = targets.copy()
    relabelled[7, 0] = 1 - relabelled[7, 0]
    other = tmp_path / 'relabelled.csv'
    _write_predictions(other, images, patients, sigmoid(score_b), relabelled, names)
    assert main([str(a), str(other)]) == 2
    assert 'labels differ at line 9 (images/0007.png), column gt_Effusion' in (
        capsys.readouterr().err
    )
