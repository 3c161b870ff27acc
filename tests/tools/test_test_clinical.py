"""tools/test.py on the NIH demo: validation thresholds, report, patient CIs."""

import json
import sys
from pathlib import Path

import pytest
import torch
from cxr_test_utils import output_of, run_tool
from mmengine.config import Config
from mmengine.registry import DefaultScope

import cxr_plugins  # noqa: F401  (registration)

REPO_ROOT = Path(__file__).resolve().parents[2]
CONFIG = 'configs/demo/vit-demo-p8_1xb64-30e_nih14-demo-64px.py'
LOADERS = [
    f'{split}_dataloader.{key}'
    for split in ('val', 'test')
    for key in ('num_workers=0', 'persistent_workers=False')
]


def _random_checkpoint(path: Path) -> Path:
    from mmpretrain.registry import MODELS

    cfg = Config.fromfile(str(REPO_ROOT / CONFIG))
    cfg.model.backbone.init_cfg = None
    with DefaultScope.overwrite_default_scope('mmpretrain'):
        model = MODELS.build(cfg.model)
    torch.save(dict(state_dict=model.state_dict()), path)
    return path


def _pack_meta_keys_option() -> str:
    """--cfg-options item making the test pipeline's PackInputs carry metadata.

    mmpretrain's PackInputs skips meta keys a sample lacks, so asking for all
    of them is safe whatever the dataset provides.
    """
    cfg = Config.fromfile(str(REPO_ROOT / CONFIG))
    pipeline = cfg.test_dataloader.dataset.pipeline
    index = [step['type'] for step in pipeline].index('PackInputs')
    keys = ['sample_idx', 'img_path', 'patient_id', 'sex', 'age', 'view', 'site']
    return f'test_dataloader.dataset.pipeline.{index}.meta_keys={keys}'.replace(' ', '')


def _dataset_metadata_keys() -> set[str]:
    """Metadata keys the demo dataset puts into its samples' data info."""
    from mmpretrain.registry import DATASETS

    cfg = Config.fromfile(str(REPO_ROOT / CONFIG))
    dataset_cfg = cfg.test_dataloader.dataset
    dataset_cfg.pipeline = []
    dataset_cfg.data_root = str(REPO_ROOT / dataset_cfg.data_root)
    with DefaultScope.overwrite_default_scope('mmpretrain'):
        info = DATASETS.build(dataset_cfg).get_data_info(0)
    return {k for k in ('patient_id', 'sex', 'view', 'age') if k in info}


@pytest.mark.slow
def test_operating_points_and_report_on_the_demo(tmp_path):
    checkpoint = _random_checkpoint(tmp_path / 'vit.pth')
    work_dir, report = tmp_path / 'work', tmp_path / 'report'
    result = run_tool(
        [
            sys.executable,
            'tools/test.py',
            CONFIG,
            str(checkpoint),
            '--work-dir',
            str(work_dir),
            '--operating-point',
            'youden',
            '--report',
            str(report),
            '--out-dir',
            str(tmp_path / 'out'),
            '--cfg-options',
            'model.backbone.init_cfg=None',
            'test_evaluator.bootstrap=200',
            "test_evaluator.subgroups=['sex','view','age_bin']",
            _pack_meta_keys_option(),
            *LOADERS,
        ]
    )
    log = output_of(result)
    assert result.returncode == 0, log[-4000:]
    thresholds = json.loads((work_dir / 'operating_points.json').read_text())
    assert thresholds['rule'] == 'youden' and len(thresholds['thresholds']) == 14
    evaluation = json.loads((tmp_path / 'out' / 'evaluation.json').read_text())
    assert evaluation['operating_points']['thresholds'] == [
        thresholds['thresholds'][name] for name in evaluation['names']
    ]
    page = (report / 'report.html').read_text()
    assert 'Operating points' in page and 'Reliability diagrams' in page
    assert 'youden' in page and 'sensitivity % [CI]' in page
    keys = _dataset_metadata_keys()
    # Where the dataset carries metadata, the run must use it (patient-level
    # intervals, subgroup rows); where it does not, the log must say so.
    if 'patient_id' in keys:
        assert evaluation['resample_unit'] == 'patient'
    else:
        assert 'bootstrap resamples images: the samples carry no patient_id' in log
    for name in ('sex', 'view'):
        if name in keys:
            assert f'<td>{name}</td>' in page
        else:
            assert f"subgroup '{name}' skipped" in log


SEG_CONFIG = 'configs/demo/upernet_vit-demo-p8_1xb4-300it_lungs-cc-by-128x128.py'


@pytest.mark.slow
def test_segmentation_show_dir_and_report_on_the_lung_demo(tmp_path):
    import cv2
    from mmseg.registry import MODELS as SEG_MODELS

    import cxr_plugins.seg  # noqa: F401  (mmseg registrations)

    cfg = Config.fromfile(str(REPO_ROOT / SEG_CONFIG))
    cfg.model.backbone.init_cfg = None
    with DefaultScope.overwrite_default_scope('mmseg'):
        model = SEG_MODELS.build(cfg.model)
    checkpoint = tmp_path / 'seg.pth'
    torch.save(dict(state_dict=model.state_dict()), checkpoint)
    show, report = tmp_path / 'show', tmp_path / 'report'
    result = run_tool(
        [
            sys.executable,
            'tools/test.py',
            SEG_CONFIG,
            str(checkpoint),
            '--work-dir',
            str(tmp_path / 'work'),
            '--show-dir',
            str(show),
            '--report',
            str(report),
            '--cfg-options',
            'model.backbone.init_cfg=None',
        ]
    )
    log = output_of(result)
    assert result.returncode == 0, log[-4000:]
    assert 'headline Dice (per-image, SIIM empty-mask rule' in log
    pictures = sorted(show.glob('*.png'))
    assert pictures, log[-2000:]
    picture = cv2.imread(str(pictures[0]))
    # two panels side by side under a title bar, at most 384 px each
    assert picture.shape[1] <= 2 * 384 and picture.shape[1] > picture.shape[0]
    page = (report / 'report.html').read_text()
    assert 'Per-image Dice distribution' in page and 'Worst 3 images' in page

    classification = run_tool(
        [sys.executable, 'tools/test.py', CONFIG, 'unused.pth', '--show-dir', 'x']
    )
    assert classification.returncode != 0
    assert '--show-dir: no metric of the config accepts show_dir' in output_of(
        classification
    )
