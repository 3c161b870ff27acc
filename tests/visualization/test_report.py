"""The HTML report: self-contained, all sections, rendered by a real browser."""

import re
import shutil
import subprocess

import cv2
import numpy as np
import pytest
import torch
from mmengine.structures import PixelData
from mmseg.structures import SegDataSample

import cxr_plugins  # noqa: F401  (registration)
import cxr_plugins.seg  # noqa: F401  (SIIMDice)
from cxr_plugins.evaluation.metrics import MultiLabelAUC
from cxr_plugins.evaluation.metrics.siim_dice import SIIMDice
from cxr_plugins.visualization.report import assemble_report

NAMES = ['Atelectasis', 'Effusion', 'Hernia']


def _classification_samples(rng, num=240):
    patients = np.repeat(np.arange(num // 2), 2)
    targets = (rng.random((num, 3)) < [0.3, 0.2, 0.05]).astype(float)
    scores = 1 / (1 + np.exp(-(rng.normal(size=targets.shape) + 1.5 * targets)))
    samples = []
    for i in range(num):
        samples.append(
            dict(
                pred_score=torch.tensor(scores[i]),
                gt_score=torch.tensor(targets[i]),
                img_path=f'images/{i:05d}.png',
                patient_id=f'P{patients[i]}',
                sex='MF'[patients[i] % 2],
                view=['PA', 'AP'][i % 2],
                age=int(20 + patients[i] % 70),
            )
        )
    return samples


def _segmentation_samples(tmp_path, rng, num=8, size=96):
    samples = []
    for i in range(num):
        image = (rng.random((size, size)) * 80 + 60).astype(np.uint8)
        path = tmp_path / f'cxr_{i}.png'
        cv2.imwrite(str(path), image)
        truth = np.zeros((size, size), np.int64)
        truth[20:70, 15 + i : 45 + i] = 1
        predicted = np.roll(truth, 3 * i, axis=0)
        sample = SegDataSample(metainfo=dict(img_path=str(path)))
        sample.pred_sem_seg = PixelData(data=torch.from_numpy(predicted)[None])
        sample.gt_sem_seg = PixelData(data=torch.from_numpy(truth)[None])
        samples.append(sample.to_dict())
    return samples


@pytest.fixture(scope='module')
def report(tmp_path_factory):
    tmp_path = tmp_path_factory.mktemp('report')
    rng = np.random.default_rng(0)
    report_dir = tmp_path / 'report'
    val = MultiLabelAUC(thresholds_out=str(tmp_path / 'thr.json'))
    val.dataset_meta = dict(classes=NAMES)
    val.process(None, _classification_samples(rng))
    val.evaluate(240)
    test = MultiLabelAUC(
        bootstrap=100,
        subgroups=['sex', 'view', 'age_bin'],
        thresholds_in=str(tmp_path / 'thr.json'),
        report_dir=str(report_dir),
    )
    test.dataset_meta = dict(classes=NAMES)
    test.process(None, _classification_samples(rng))
    metrics = test.evaluate(240)
    dice = SIIMDice(report_dir=str(report_dir), report_examples=2)
    dice.process({}, _segmentation_samples(tmp_path, rng))
    metrics.update(dice.evaluate(8))
    page = assemble_report(
        report_dir, 'Evaluation of test.pth', dict(config='cfg.py'), metrics
    )
    return page, metrics


def test_report_is_self_contained_and_has_every_section(report):
    page, metrics = report
    text = page.read_text()
    # nothing to fetch: no external src/href, no scripts, no stylesheets
    assert not re.search(r'(src|href)="(?!data:)', text)
    assert '<script' not in text and '<link' not in text
    images = re.findall(r'src="data:image/png;base64,', text)
    # ROC, PR, reliability; Dice histogram; 2 worst + 2 best overlays
    assert len(images) == 3 + 1 + 4
    for heading in (
        'ROC curves',
        'Precision-recall curves',
        'Reliability diagrams',
        'Subgroups',
        'Operating points',
        'Per-image Dice distribution',
        'Worst 2 images',
        'Best 2 images',
    ):
        assert heading in text, heading
    assert f'{metrics["auc/mAUC"]:.2f} [' in text  # mean AUC with its CI
    assert 'gap M - F' in text or 'gap F - M' in text
    assert 'per-image Dice, SIIM empty-mask rule (headline; MRM)' in text
    assert 'sensitivity % [CI]' in text


def _nonblank(png: np.ndarray) -> bool:
    grey = cv2.cvtColor(png, cv2.COLOR_BGR2GRAY)
    return grey.std() > 10 and (grey < 200).mean() > 0.02


def test_report_renders_in_headless_chromium(report, tmp_path):
    browser = shutil.which('chromium') or shutil.which('chromium-browser')
    if browser is None:
        pytest.skip(
            'no chromium on PATH (Debian: apt-get install -y chromium; .ci/run '
            'installs it)'
        )
    page, _ = report
    screenshot = tmp_path / 'report.png'
    command = [
        browser,
        '--headless',
        '--no-sandbox',
        '--disable-gpu',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
        '--no-first-run',
        f'--user-data-dir={tmp_path / "profile"}',
        f'--screenshot={screenshot}',
        '--window-size=1200,2000',
        page.resolve().as_uri(),
    ]
    result = subprocess.run(command, capture_output=True, text=True, timeout=120)
    assert screenshot.is_file(), result.stderr[-2000:]
    png = cv2.imread(str(screenshot))
    assert png.shape[:2] == (2000, 1200)
    assert _nonblank(png)
    # the embedded figures rendered: a blank-white page has no mid-grey content,
    # an HTML page without images has almost no colour
    hsv = cv2.cvtColor(png, cv2.COLOR_BGR2HSV)
    assert (hsv[..., 1] > 60).mean() > 0.005


def test_binary_cls_metric_writes_its_report_section(tmp_path):
    from cxr_plugins.evaluation.metrics import CXRClsMetrics

    rng = np.random.default_rng(3)
    labels = rng.integers(0, 2, 150)
    positive = 1 / (1 + np.exp(-(rng.normal(size=150) + 1.5 * labels)))
    metric = CXRClsMetrics(bootstrap=100, subgroups=['sex'], report_dir=str(tmp_path))
    metric.dataset_meta = dict(classes=['normal', 'abnormal'])
    metric.process(
        None,
        [
            dict(
                pred_score=torch.tensor([1 - p, p]),
                gt_label=torch.tensor([y]),
                patient_id=f'P{i // 3}',
                sex='MF'[i % 2],
            )
            for i, (p, y) in enumerate(zip(positive, labels))
        ],
    )
    result = metric.evaluate(150)
    assert 'cls/auc_sex=F/mAUC' in result and 'cls/auc_sex/gap' in result
    section = (tmp_path / 'sections' / 'CXRClsMetrics.html').read_text()
    assert '50 patients' in section and '<td>abnormal</td>' in section
    assert f'{result["cls/auc"]:.2f} [' in section
