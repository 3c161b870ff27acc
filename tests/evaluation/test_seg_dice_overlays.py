"""SIIMDice's three Dice figures (headline vs pooled vs mmseg mDice), overlays."""

import time

import cv2
import numpy as np
import pytest
import torch
from mmengine.structures import PixelData
from mmseg.evaluation import IoUMetric
from mmseg.structures import SegDataSample

import cxr_plugins.seg  # noqa: F401  (registration)
from cxr_plugins.evaluation.metrics.siim_dice import SIIMDice
from cxr_plugins.visualization.overlays import TITLE_HEIGHT, side_by_side


def _samples(tmp_path, rng, num=6, size=64):
    samples = []
    for i in range(num):
        path = tmp_path / f'img_{i}.png'
        cv2.imwrite(str(path), (rng.random((size, size)) * 255).astype(np.uint8))
        truth = np.zeros((size, size), np.int64)
        if i % 3:
            truth[10 : 20 + 6 * i, 8:40] = 1
        predicted = np.zeros_like(truth)
        predicted[12 : 22 + 5 * i, 10:44] = i > 0
        truth[0, :5] = 255  # ignored pixels
        sample = SegDataSample(metainfo=dict(img_path=str(path)))
        sample.pred_sem_seg = PixelData(data=torch.from_numpy(predicted)[None])
        sample.gt_sem_seg = PixelData(data=torch.from_numpy(truth)[None])
        samples.append(sample.to_dict())
    return samples


def test_pooled_figures_equal_mmseg_iou_metric_and_are_labelled(tmp_path):
    rng = np.random.default_rng(0)
    samples = _samples(tmp_path, rng)
    ours = SIIMDice(out_dir=str(tmp_path / 'out'), show_dir=str(tmp_path / 'show'))
    ours.process({}, samples)
    result = ours.compute_metrics(ours.results)
    mmseg = IoUMetric(iou_metrics=['mDice'])
    mmseg.dataset_meta = dict(classes=('background', 'lung'))
    mmseg.process({}, samples)
    reference = mmseg.compute_metrics(mmseg.results)
    assert result['mDice_with_background'] == pytest.approx(
        reference['mDice'], abs=0.01
    )
    # the foreground row of IoUMetric's table: pooled foreground Dice
    truth = np.stack([s['gt_sem_seg']['data'][0].numpy() for s in samples])
    predicted = np.stack([s['pred_sem_seg']['data'][0].numpy() for s in samples])
    valid = truth != 255
    both = ((truth == 1) & (predicted == 1) & valid).sum()
    pooled = (
        2 * both / (((truth == 1) & valid).sum() + ((predicted == 1) & valid).sum())
    )
    assert result['Dice_pixel_pooled'] == pytest.approx(100 * pooled)
    # the headline differs from both (empty-mask rule, per image)
    assert result['Dice'] != pytest.approx(result['Dice_pixel_pooled'], abs=0.5)
    written = sorted(p.name for p in (tmp_path / 'show').glob('*.png'))
    assert written == [f'img_{i}.png' for i in range(6)]


def test_bounded_read_decodes_large_images_small(tmp_path):
    from cxr_plugins.visualization.overlays import read_grey_bounded

    rng = np.random.default_rng(2)
    image = cv2.GaussianBlur(
        (rng.random((1024, 768)) * 255).astype(np.uint8), (9, 9), 3
    )
    for suffix in ('.jpg', '.png'):
        path = tmp_path / f'big{suffix}'
        cv2.imwrite(str(path), image)
        small = read_grey_bounded(path, 384)
        assert small.shape == (384, 288)
        expected = cv2.resize(image, (288, 384), interpolation=cv2.INTER_AREA)
        assert np.abs(small.astype(int) - expected).mean() < 3
    assert read_grey_bounded(path, 2048).shape == (1024, 768)
    with pytest.raises(FileNotFoundError, match='cannot read image'):
        read_grey_bounded(tmp_path / 'missing.png', 384)


def test_overlay_keeps_the_radiograph_visible_and_is_bounded():
    rng = np.random.default_rng(1)
    image = (rng.random((1024, 1024)) * 200).astype(np.uint8)
    truth = np.zeros((1024, 1024), np.uint8)
    truth[200:800, 100:500] = 1
    predicted = np.roll(truth, 60, axis=1)
    start = time.perf_counter()
    picture = side_by_side(image, truth, predicted, 'a.png  Dice 0.850', max_side=384)
    seconds = time.perf_counter() - start
    assert picture.shape == (TITLE_HEIGHT + 384, 2 * 384, 3)
    assert seconds < 0.5
    left = picture[TITLE_HEIGHT:, :384].astype(int)
    inside = left[150:250, 80:150]  # inside the ground truth, away from the edge
    shrunk = cv2.resize(image, (384, 384), interpolation=cv2.INTER_AREA)
    # translucent: the radiograph's texture survives under the fill
    assert (
        np.corrcoef(inside[..., 0].ravel(), shrunk[150:250, 80:150].ravel())[0, 1] > 0.9
    )
    # and the fill tints it green
    assert (inside[..., 1] - inside[..., 2]).mean() > 20
    right = picture[TITLE_HEIGHT:, 384:].astype(int)
    assert (right[150:250, 110:170, 2] - right[150:250, 110:170, 1]).mean() > 20
    # the title bar has text in it
    assert (picture[:TITLE_HEIGHT] < 128).any()
