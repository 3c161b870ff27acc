"""Evaluation: mAUC + 1,000-resample bootstrap CI, clinical evaluation, tools/test.py.

- ``MultiLabelAUC(bootstrap=1000)`` (``cxr_plugins/evaluation/metrics``) over
  25,596 x 14 predictions (the size of NIH ChestX-ray14's official test list),
  labels drawn at NIH's per-class prevalence, beside the per-resample
  ``sklearn.metrics.roc_auc_score`` loop (timed on a few resamples and scaled to
  1,000). The point mAUC is checked against sklearn in the same run. Wall and
  process-CPU seconds are both given: numpy runs this on one thread, so on a
  shared machine the CPU seconds are what an idle core would take.
- The clinical evaluation at the same size with NIH's real patient structure:
  25,596 images of randomly chosen whole NIH patients (Data_Entry_2017_v2020:
  their real labels, patient ids, sex, age and view; synthetic scores), through
  ``MultiLabelAUC(bootstrap=1000, subgroups=['sex', 'view', 'age_bin'],
  thresholds_in=...)``: 1,000-resample patient-level bootstrap of 14 AUCs and
  the mean, 8 subgroups' AUCs and gaps, ECE and reliability bins, and
  sensitivity / specificity / PPV / NPV with intervals at Youden thresholds.
  Target: under 10 s on this machine.
- ``tools/test.py`` on the demo ViT config (``configs/demo/
  vit-demo-p8_1xb64-30e_nih14-demo-64px.py``, the demo test split at 64 px,
  bootstrap 1,000) with a freshly initialised checkpoint: end-to-end wall time
  of the command (imports included), images/s.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd
import torch
from mmengine.config import Config
from mmengine.registry import DefaultScope
from mmpretrain.registry import DATASETS, MODELS
from sklearn.metrics import roc_auc_score

import cxr_plugins  # noqa: F401  (registers MultiLabelAUC, CXRViT, datasets)
from benchmarks.common import REPO_ROOT, SHARED_DATA, machine_line, print_table
from cxr_plugins.datasets.nih_cxr14 import NIH_CLASSES
from cxr_plugins.evaluation.metrics import MultiLabelAUC

NIH_TEST_SIZE = 25_596
DEMO_CONFIG = (
    REPO_ROOT / 'configs' / 'demo' / 'vit-demo-p8_mae-pre_1xb64-15e_nih14-demo-64px.py'
)


def nih_prevalence() -> np.ndarray:
    """Per-class positive rate in NIH's Data_Entry_2017_v2020.csv.gz."""
    findings = pd.read_csv(
        SHARED_DATA / 'labels' / 'nih_cxr14' / 'Data_Entry_2017_v2020.csv.gz',
        usecols=['Finding Labels'],
    )['Finding Labels']
    return np.array(
        [findings.str.contains(name, regex=False).mean() for name in NIH_CLASSES]
    )


def synthetic_predictions(
    prevalence: np.ndarray, seed: int = 0
) -> tuple[np.ndarray, np.ndarray]:
    """0/1 targets at ``prevalence`` and scores with AUC around 0.8."""
    rng = np.random.default_rng(seed)
    targets = rng.random((NIH_TEST_SIZE, len(prevalence))) < prevalence
    targets = targets.astype(np.float64)
    logits = rng.normal(size=targets.shape) + 1.2 * targets
    return 1 / (1 + np.exp(-logits)), targets


def nih_patient_cohort(seed: int = 0) -> tuple[pd.DataFrame, np.ndarray]:
    """25,596 images of whole NIH patients in random order, and their targets."""
    frame = pd.read_csv(
        SHARED_DATA / 'labels' / 'nih_cxr14' / 'Data_Entry_2017_v2020.csv.gz',
        usecols=[
            'Image Index',
            'Finding Labels',
            'Patient ID',
            'Patient Age',
            'Patient Gender',
            'View Position',
        ],
    )
    rng = np.random.default_rng(seed)
    sizes = frame.groupby('Patient ID').size()
    patients = rng.permutation(sizes.index.to_numpy())
    enough = int(np.searchsorted(np.cumsum(sizes[patients].to_numpy()), NIH_TEST_SIZE))
    chosen = frame[frame['Patient ID'].isin(patients[: enough + 1])]
    chosen = chosen.iloc[:NIH_TEST_SIZE]
    findings = chosen['Finding Labels']
    targets = np.stack(
        [findings.str.contains(name, regex=False) for name in NIH_CLASSES], axis=1
    ).astype(np.float64)
    return chosen.reset_index(drop=True), targets


def clinical_seconds(work_dir: Path) -> tuple[np.ndarray, dict, int]:
    """(wall, CPU) seconds of the full clinical MultiLabelAUC, its metrics, patients."""
    from cxr_plugins.evaluation.metrics.clinical import fit_thresholds
    from cxr_plugins.evaluation.metrics.operating_points import save_thresholds

    cohort, targets = nih_patient_cohort()
    rng = np.random.default_rng(1)
    logits = rng.normal(size=targets.shape) + 1.2 * targets
    scores = 1 / (1 + np.exp(-logits))
    # Thresholds "from validation": fitted on an independent draw of scores.
    validation = 1 / (1 + np.exp(-(rng.normal(size=targets.shape) + 1.2 * targets)))
    thresholds = work_dir / 'thresholds.json'
    save_thresholds(
        thresholds,
        list(NIH_CLASSES),
        fit_thresholds(validation, targets, 'youden'),
        'youden',
        None,
        'benchmark',
    )
    samples = [
        dict(
            pred_score=torch.from_numpy(s),
            gt_score=torch.from_numpy(t),
            img_path=row['Image Index'],
            patient_id=str(row['Patient ID']),
            sex=row['Patient Gender'],
            age=int(row['Patient Age']),
            view=row['View Position'],
        )
        for s, t, (_, row) in zip(scores, targets, cohort.iterrows())
    ]
    metric = MultiLabelAUC(
        bootstrap=1000,
        subgroups=['sex', 'view', 'age_bin'],
        thresholds_in=str(thresholds),
    )
    metric.dataset_meta = dict(classes=NIH_CLASSES)
    start = clocks()
    for begin in range(0, len(samples), 256):
        metric.process(None, samples[begin : begin + 256])
    metrics = metric.compute_metrics(metric.results)
    return clocks() - start, metrics, cohort['Patient ID'].nunique()


def clocks() -> np.ndarray:
    """(wall, process CPU) seconds now."""
    return np.array([time.perf_counter(), time.process_time()])


def metric_seconds(
    scores: np.ndarray, targets: np.ndarray
) -> tuple[np.ndarray, np.ndarray, dict]:
    """(wall, CPU) seconds of ``process`` and of ``compute_metrics`` of
    MultiLabelAUC(bootstrap=1000), and the metrics."""
    metric = MultiLabelAUC(bootstrap=1000)
    metric.dataset_meta = dict(classes=NIH_CLASSES)
    start = clocks()
    for begin in range(0, len(scores), 256):
        metric.process(
            None,
            [
                dict(pred_score=torch.from_numpy(s), gt_score=torch.from_numpy(t))
                for s, t in zip(
                    scores[begin : begin + 256], targets[begin : begin + 256]
                )
            ],
        )
    processed = clocks()
    metrics = metric.compute_metrics(metric.results)
    return processed - start, clocks() - processed, metrics


def sklearn_bootstrap_seconds(
    scores: np.ndarray, targets: np.ndarray, resamples: int
) -> np.ndarray:
    """(wall, CPU) seconds of the plain loop, scaled to 1,000 resamples."""
    rng = np.random.default_rng(0)
    start = clocks()
    for _ in range(resamples):
        index = rng.integers(0, len(scores), len(scores))
        for column in range(scores.shape[1]):
            roc_auc_score(targets[index, column], scores[index, column])
    return (clocks() - start) * 1000 / resamples


def test_script_rate(work_dir: Path) -> tuple[float, int]:
    """Wall seconds of ``tools/test.py`` on the demo config, and its image count."""
    cfg = Config.fromfile(str(DEMO_CONFIG))
    cfg.model.backbone.init_cfg = None
    with DefaultScope.overwrite_default_scope('mmpretrain'):
        model = MODELS.build(cfg.model)
        dataset_cfg = cfg.test_dataloader.dataset
        dataset_cfg.pipeline = []
        num_images = len(DATASETS.build(dataset_cfg))
    checkpoint = work_dir / 'demo_vit.pth'
    torch.save(dict(state_dict=model.state_dict()), checkpoint)
    command = [
        sys.executable,
        str(REPO_ROOT / 'tools' / 'test.py'),
        str(DEMO_CONFIG),
        str(checkpoint),
        '--work-dir',
        str(work_dir / 'test'),
        '--cfg-options',
        'model.backbone.init_cfg=None',
    ]
    start = time.perf_counter()
    result = subprocess.run(
        command,
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        env={**os.environ, 'PYTHONWARNINGS': 'ignore'},
    )
    seconds = time.perf_counter() - start
    if result.returncode != 0:
        raise RuntimeError(f'tools/test.py failed:\n{result.stderr[-3000:]}')
    return seconds, num_images


def report_clinical(repeats: int) -> None:
    """Time the clinical MultiLabelAUC and print its table (machine facts first)."""
    print(f'Clinical evaluation | {machine_line()}')
    with tempfile.TemporaryDirectory() as tmp:
        clinical = [clinical_seconds(Path(tmp)) for _ in range(repeats)]
    seconds = np.median([run[0] for run in clinical], axis=0)
    metrics, num_patients = clinical[0][1], clinical[0][2]
    print_table(
        f'Clinical MultiLabelAUC (process + compute), {NIH_TEST_SIZE:,} x 14 from '
        f'{num_patients:,} NIH patients, median of {repeats}',
        ['evaluation', 'wall s', 'CPU s', 'under 10 s (wall)'],
        [
            (
                '1,000 patient resamples + 8 subgroups + ECE + operating points',
                *seconds,
                'yes' if seconds[0] < 10 else 'NO',
            )
        ],
    )
    print(
        f'mAUC {metrics["mAUC"]:.2f} [{metrics["mAUC_ci_low"]:.2f}, '
        f'{metrics["mAUC_ci_high"]:.2f}] (patient-level); sex gap '
        f'{metrics.get("sex/gap", float("nan")):.2f}, mECE {metrics["mECE"]:.2f}; '
        f'after: {machine_line()}',
        flush=True,
    )


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument('--quick', action='store_true', help='fewer repeats')
    parser.add_argument(
        '--clinical-only', action='store_true', help='only the clinical evaluation'
    )
    args = parser.parse_args(argv)
    repeats = 1 if args.quick else 3
    if args.clinical_only:
        report_clinical(repeats)
        return
    print(f'Evaluation benchmark | {machine_line()}')
    scores, targets = synthetic_predictions(nih_prevalence())
    runs = [metric_seconds(scores, targets) for _ in range(repeats)]
    process = np.median([run[0] for run in runs], axis=0)
    compute = np.median([run[1] for run in runs], axis=0)
    metrics = runs[0][2]
    sklearn_mauc = 100 * np.mean(
        [roc_auc_score(targets[:, c], scores[:, c]) for c in range(scores.shape[1])]
    )
    loop = sklearn_bootstrap_seconds(scores, targets, 5 if args.quick else 10)
    both = process + compute
    print_table(
        f'mAUC + 1,000-resample bootstrap CI, {NIH_TEST_SIZE:,} x 14, '
        f'median of {repeats}',
        ['implementation', 'wall s', 'CPU s', 'x sklearn loop (CPU)'],
        [
            ('sklearn roc_auc_score loop (scaled from a few resamples)', *loop, 1.0),
            ('MultiLabelAUC.process (25,596 samples)', *process, '-'),
            (
                'MultiLabelAUC.compute_metrics (AUC + bootstrap)',
                *compute,
                loop[1] / compute[1],
            ),
            ('MultiLabelAUC, both', *both, loop[1] / both[1]),
        ],
    )
    if abs(metrics['mAUC'] - sklearn_mauc) > 1e-6:
        raise AssertionError(
            f'MultiLabelAUC mAUC {metrics["mAUC"]} differs from sklearn {sklearn_mauc}'
        )
    print(
        f'mAUC {metrics["mAUC"]:.4f} (sklearn {sklearn_mauc:.4f}), 95% CI '
        f'[{metrics["mAUC_ci_low"]:.2f}, {metrics["mAUC_ci_high"]:.2f}]'
    )
    report_clinical(repeats)
    with tempfile.TemporaryDirectory() as tmp:
        seconds, num_images = test_script_rate(Path(tmp))
    print_table(
        'tools/test.py, demo ViT config, end to end (imports included)',
        ['images', 'seconds', 'images/s'],
        [(num_images, seconds, num_images / seconds)],
    )


if __name__ == '__main__':
    main()
