"""Pooled out-of-fold evaluation of k-fold patient cross-fitting."""

import numpy as np
import pytest

from cxr_plugins.evaluation.metrics.clinical import evaluate_scores
from cxr_plugins.evaluation.metrics.multilabel_auc import write_predictions_csv
from cxr_plugins.evaluation.metrics.pooled_folds import evaluate_pooled_folds

NAMES = ['Effusion', 'Nodule']


def _fold_file(path, patients, rng):
    targets = (rng.random((len(patients), 2)) < 0.4).astype(float)
    scores = 1 / (1 + np.exp(-(rng.normal(size=targets.shape) + 1.5 * targets)))
    write_predictions_csv(
        path,
        [f'{p}_{i}.png' for i, p in enumerate(patients)],
        {'patient_id': patients},
        NAMES,
        scores,
        targets,
    )
    return scores, targets


def test_pooled_folds_equal_one_evaluation_of_all_patients(tmp_path):
    rng = np.random.default_rng(0)
    parts = []
    for fold in range(3):
        patients = [f'P{fold}_{i // 2}' for i in range(60)]  # 2 images each
        scores, targets = _fold_file(tmp_path / f'f{fold}.csv', patients, rng)
        parts.append((scores, targets, patients))
    got = evaluate_pooled_folds(
        [tmp_path / f'f{fold}.csv' for fold in range(3)],
        tmp_path / 'pooled',
        subset_classes=['Effusion'],
        bootstrap=200,
        log=lambda message: None,
    )
    scores = np.concatenate([p[0] for p in parts])
    targets = np.concatenate([p[1] for p in parts])
    expected = evaluate_scores(
        scores.round(8),  # the CSVs keep 8 significant digits
        targets,
        NAMES,
        {'patient_id': sum((p[2] for p in parts), [])},
        bootstrap=200,
        subset_classes=['Effusion'],
        log=lambda message: None,
    )
    assert got['auc/mAUC'] == pytest.approx(100 * expected['mean']['point'], abs=1e-4)
    assert got['auc/mAUC_subset'] == pytest.approx(got['auc/Effusion'])
    assert got['auc/mAUC_ci_low'] < got['auc/mAUC'] < got['auc/mAUC_ci_high']
    pooled = (tmp_path / 'pooled' / 'predictions.csv').read_text().splitlines()
    assert len(pooled) == 1 + 180 and pooled[0].startswith('img_path,patient_id')
    assert (tmp_path / 'pooled' / 'evaluation.json').is_file()


def test_pooled_folds_refuse_a_patient_in_two_folds(tmp_path):
    rng = np.random.default_rng(1)
    _fold_file(tmp_path / 'a.csv', ['P1', 'P2', 'P3', 'P4'], rng)
    _fold_file(tmp_path / 'b.csv', ['P5', 'P2', 'P6', 'P7'], rng)
    with pytest.raises(ValueError, match=r'patient P2 is in fold file 1 \(.*a.csv'):
        evaluate_pooled_folds(
            [tmp_path / 'a.csv', tmp_path / 'b.csv'], tmp_path / 'out', bootstrap=0
        )
    with pytest.raises(ValueError, match='P1 is in fold file 1 .* fold file 2'):
        evaluate_pooled_folds(
            [tmp_path / 'a.csv', tmp_path / 'a.csv'], tmp_path / 'out', bootstrap=0
        )
    assert not (tmp_path / 'out').exists()


def test_pool_folds_tool_exits_2_naming_the_leak(tmp_path, capsys):
    from cxr_test_utils import load_tool

    tool = load_tool('tools/analysis/pool_folds.py')
    rng = np.random.default_rng(2)
    _fold_file(tmp_path / 'a.csv', ['P1', 'P2', 'P3', 'P4'], rng)
    _fold_file(tmp_path / 'b.csv', ['P5', 'P6', 'P7', 'P8'], rng)
    argv = ['--out-dir', str(tmp_path / 'out'), '--bootstrap', '50']
    assert tool.main([str(tmp_path / 'a.csv'), str(tmp_path / 'b.csv'), *argv]) == 0
    assert 'auc/mAUC' in capsys.readouterr().out
    assert tool.main([str(tmp_path / 'a.csv'), str(tmp_path / 'a.csv'), *argv]) == 2
    assert 'not patient-disjoint' in capsys.readouterr().err
