"""SIIM-ACR end to end on the 14 real images: RLE -> masks -> train -> Dice."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest
from cxr_test_utils import REPO_ROOT
from mmengine.runner import Runner

pytestmark = pytest.mark.usefixtures('mmseg_scope')

MRM_CONFIG = (
    REPO_ROOT
    / 'configs'
    / 'segmentation'
    / 'mrm'
    / 'upernet_vit-base-p16_mrm-pre_4xb2-160k_siim-512x512.py'
)


def test_siim_pipeline_end_to_end(siim_sample, siim_prepared, tiny_config, tmp_path):
    cfg = tiny_config(MRM_CONFIG, tmp_path / 'work', siim_prepared)
    out_dir = tmp_path / 'dice'
    cfg.test_dataloader.dataset.pop('indices', None)
    cfg.test_evaluator = [
        dict(type='SIIMDice', out_dir=str(out_dir), show_dir=str(out_dir / 'overlays')),
        dict(type='IoUMetric', iou_metrics=['mDice']),
    ]
    runner = Runner.from_cfg(cfg)
    runner.train()
    assert runner.iter == 2
    metrics = runner.test()

    with open(siim_sample / 'labels.csv', newline='') as handle:
        truth = {row['ImageId']: row for row in csv.DictReader(handle)}
    with open(out_dir / 'per_image_dice.csv', newline='') as handle:
        rows = list(csv.DictReader(handle))
    assert len(rows) == 14
    dice = []
    for row in rows:
        image_id = Path(row['image']).stem
        # evaluated at the original 1024 px: ground truth equals the RLE's
        assert int(row['gt_pixels']) == int(truth[image_id]['mask_pixels'])
        score = float(row['dice'])
        if int(row['gt_pixels']) == 0:
            assert score == (1.0 if int(row['pred_pixels']) == 0 else 0.0)
        else:
            assert 0.0 <= score <= 1.0
        dice.append(score)
    assert metrics['Dice'] == pytest.approx(100 * sum(dice) / 14)
    assert (metrics['n_positive'], metrics['n_negative']) == (9, 5)
    assert len(list((out_dir / 'overlays').glob('*.png'))) == 14
