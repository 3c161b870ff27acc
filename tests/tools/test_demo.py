"""Demo and label-efficiency study drivers, PneumoniaMNIST data, quiet console."""

import csv
import json
import sys
import warnings
from pathlib import Path

import numpy as np
import pytest
from cxr_test_utils import output_of, run_tool
from mmengine.logging import MMLogger
from mmengine.registry import init_default_scope
from mmpretrain.registry import DATASETS

from cxr_plugins import compat
from cxr_plugins.apis import demo, study

NPZ = 'data/demo/pneumoniamnist_28px/'


def build_pneumonia(split: str, **kwargs):
    init_default_scope('mmpretrain')
    return DATASETS.build(
        dict(
            type='MedMNIST',
            data_root=NPZ,
            ann_file='pneumoniamnist.npz',
            split=split,
            pipeline=[dict(type='PackInputs')],
            **kwargs,
        )
    )


def test_pneumoniamnist_splits_and_fraction():
    sizes = {s: len(build_pneumonia(s)) for s in ('train', 'val', 'test')}
    assert sizes == {'train': 3882, 'val': 524, 'test': 624}
    subset = build_pneumonia('train', fraction=0.01, seed=3)
    assert len(subset) == 39
    archive = np.load(Path(NPZ) / 'pneumoniamnist.npz')
    for index in (0, 17, 38):
        info = subset.get_data_info(index)
        row = int(info['img_path'].rsplit('/', 1)[1])
        assert info['img'].shape == (28, 28, 3)
        np.testing.assert_array_equal(
            info['img'][:, :, 0], archive['train_images'][row]
        )
        assert info['gt_score'][0] == archive['train_labels'][row, 0]
    # Another seed, another subset.
    other = build_pneumonia('train', fraction=0.01, seed=4)
    assert {subset.get_data_info(i)['img_path'] for i in range(39)} != {
        other.get_data_info(i)['img_path'] for i in range(39)
    }


def test_pneumoniamnist_rejects_bad_input(tmp_path):
    with pytest.raises(ValueError, match='split'):
        build_pneumonia('holdout')
    np.savez(
        tmp_path / 'bad.npz',
        train_images=np.zeros((2, 28, 28), np.uint8),
        train_labels=np.array([[0], [2]], np.uint8),
    )
    init_default_scope('mmpretrain')
    with pytest.raises(ValueError, match='bad.npz: train_labels row 1 column 0 is 2'):
        DATASETS.build(
            dict(
                type='MedMNIST',
                data_root=str(tmp_path),
                ann_file='bad.npz',
                split='train',
            )
        )


def test_quiet_console_drops_known_notices_only(tmp_path):
    logger = MMLogger.get_instance(
        'cxr_quiet_test', log_file=str(tmp_path / 'run.log'), log_level='INFO'
    )
    logger.warning('The prefix is not set in metric class IoUMetric.')
    logger.warning('"FileClient" will be deprecated in future. Please use io functions')
    logger.info('Hooks will be executed in the following order:\nbefore_run: ...')
    logger.info('paramwise_options -- backbone.pos_embed:lr=0.1')
    logger.info("Config:\nmodel = dict(type='ImageClassifier')")
    logger.warning('something new went wrong')
    logger.info('Epoch(train) [1][5/9] loss: 0.5')
    for handler in logger.handlers:
        handler.flush()
    text = (tmp_path / 'run.log').read_text()
    assert 'something new went wrong' in text and 'Epoch(train)' in text
    hidden_texts = ('IoUMetric', 'FileClient', 'Hooks will', 'paramwise', 'Config:')
    for hidden in hidden_texts:
        assert hidden not in text, hidden
    debug = MMLogger.get_instance(
        'cxr_quiet_debug', log_file=str(tmp_path / 'debug.log'), log_level='DEBUG'
    )
    debug.info('paramwise_options -- backbone.pos_embed:lr=0.1')
    for handler in debug.handlers:
        handler.flush()
    assert 'DEBUG - paramwise_options' in (tmp_path / 'debug.log').read_text()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter('default')
        compat._install_quiet_console()
        warnings.warn(
            'Fail to import ``MultiScaleDeformableAttention`` from x',
            UserWarning,
            stacklevel=2,
        )
        warnings.warn(
            'For binary segmentation, we suggest using`out_channels = 1`',
            UserWarning,
            stacklevel=2,
        )
        warnings.warn('an unrelated warning', UserWarning, stacklevel=2)
    assert [str(w.message) for w in caught] == ['an unrelated warning']


def test_bootstrap_mean_ci_covers_the_mean():
    values = np.random.default_rng(0).normal(0.8, 0.05, 200)
    low, high = demo.bootstrap_mean_ci(values)
    assert low < values.mean() < high
    assert high - low == pytest.approx(2 * 1.96 * values.std() / np.sqrt(200), rel=0.2)


def test_latest_test_metrics_skips_training_logs(tmp_path):
    for stamp, record in (
        ('20260101_000000', {'lr': 0.1, 'loss': 1.0, 'step': 3}),
        ('20260101_000100', {'auc/mAUC': 71.5, 'time': 0.2}),
    ):
        (tmp_path / stamp).mkdir()
        (tmp_path / stamp / f'{stamp}.json').write_text(json.dumps(record) + '\n')
    assert demo.latest_test_metrics(str(tmp_path))['auc/mAUC'] == 71.5
    with pytest.raises(FileNotFoundError, match='no test metrics'):
        demo.latest_test_metrics(str(tmp_path / 'nothing'))


def test_schedule_selects_after_warmup_only():
    options = demo.Schedule(30, 2, 2, 12).options()
    assert 'train_cfg.val_begin=12' in options
    assert 'param_scheduler.1.T_max=28' in options
    assert not any('val' in o for o in demo.Schedule(20, 2, 0).options())
    full = demo.schedules(quick=False)
    assert full['pneumonia'].val_begin > full['pneumonia'].warmup
    assert full['seg'].val_interval > full['seg'].warmup  # iterations: first check
    # NIH-14 is cross-fitted: no validation, the last (EMA) epoch is tested
    assert full['nih'].val_interval == 0
    assert full['nih'].length > full['nih'].warmup


def test_study_summary_statistics():
    rows = [
        dict(init='mae', fraction=0.1, test_auc=auc) for auc in (80.0, 82.0, 84.0)
    ] + [dict(init='random', fraction=0.1, test_auc=70.0)]
    mae, random = study.summarise(rows)
    assert (mae['mean'], mae['sd'], mae['seeds']) == (82.0, 2.0, 3)
    # t(0.975, 2) = 4.303: half-width 4.303 * 2 / sqrt(3)
    assert mae['ci_high'] - mae['mean'] == pytest.approx(4.97, abs=0.01)
    assert random['seeds'] == 1 and np.isnan(random['sd'])


def test_study_gains_are_paired_by_seed_and_runs_csv_round_trips(tmp_path):
    rows = [
        dict(init=init, fraction=0.01, seed=seed, test_auc=auc)
        for init, seed, auc in (
            ('mae', 0, 90.0),
            ('random', 0, 85.0),
            ('mae', 1, 80.0),
            ('random', 1, 77.0),
            ('mae', 2, 70.0),  # no random partner: left out of the pairs
        )
    ]
    (gain,) = study.paired_gains(rows)
    assert (gain['fraction'], gain['seeds'], gain['mean']) == (0.01, 2, 4.0)
    assert gain['sd'] == pytest.approx(np.std([5.0, 3.0], ddof=1), abs=0.01)
    study.write_csv(str(tmp_path / 'runs.csv'), rows)
    assert study.paired_gains(study.read_runs(str(tmp_path / 'runs.csv'))) == [gain]
    (tmp_path / 'bad.csv').write_text('init,fraction,seed,test_auc\nmae,0.1,x,90\n')
    with pytest.raises(ValueError, match='bad.csv, line 2'):
        study.read_runs(str(tmp_path / 'bad.csv'))


@pytest.mark.slow
def test_run_study_quick(tmp_path):
    # The driver of tools/run_study.sh (the script only adds tools/setup_env.sh,
    # which would reinstall the package into the running environment).
    work = tmp_path / 'study'
    result = run_tool(
        [sys.executable, '-m', 'cxr_plugins.apis.study', str(work), '--quick']
        + ['--seeds', '1', '--jobs', '1'],
        timeout=1200,
    )
    log = output_of(result)
    assert result.returncode == 0, log[-6000:]
    with open(work / 'summary.csv', newline='') as handle:
        summary = list(csv.DictReader(handle))
    assert {row['init'] for row in summary} == {'mae', 'random'}
    for row in summary:
        assert 0 < float(row['mean']) <= 100
    assert (work / 'label_efficiency.png').stat().st_size > 1000
    assert (work / 'gains.csv').read_text().startswith('fraction,seeds,mean')
    assert 'MAE pretraining on the PneumoniaMNIST training images: loss' in log
    # The quiet console: none of the known-harmless notices reach the user.
    for notice, _ in compat.HARMLESS_NOTICES:
        assert notice not in log, notice
    assert 'Hooks will be executed' not in log


def test_auc_with_ci_counts_defined_classes_and_names_the_subset(tmp_path):
    predictions = tmp_path / 'predictions.csv'
    predictions.write_text(
        'img_path,prob_A,prob_B,prob_C,gt_A,gt_B,gt_C\n'
        'a.png,0.1,0.2,0.3,0,1,0\nb.png,0.4,0.5,0.6,1,0,0\n'
    )
    metrics = {'auc/mAUC': 61.0, 'auc/mAUC_ci_low': 52.0, 'auc/mAUC_ci_high': 70.0}
    metrics.update(
        {'auc/mAUC_subset': 65.0, 'auc/mAUC_subset_ci_low': 55.5}
        | {'auc/mAUC_subset_ci_high': 74.0}
    )
    line = demo.auc_with_ci(metrics, str(predictions), ('A', 'B'))
    assert line == (
        'mAUC 61.0 [95 % CI 52.0, 70.0] over the 2 classes defined on the test '
        'set, 65.0 [95 % CI 55.5, 74.0] over A, B'
    )
    assert demo.subset_classes(
        'configs/demo/resnet18_1xb32-30e_nih14-demo-64px.py'
    ) == ('Atelectasis', 'Cardiomegaly', 'Effusion', 'Infiltration', 'Nodule')
