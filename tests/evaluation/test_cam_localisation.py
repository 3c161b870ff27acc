"""CAM-vs-box localisation scores on synthetic CAMs and the real NIH box file."""

from __future__ import annotations

import numpy as np
import pytest

from cxr_plugins.evaluation.metrics.cam_localisation import (
    Box,
    best_threshold,
    box_mask,
    cam_box_ious,
    localisation_scores,
    mask_iou,
    read_nih_boxes,
)


def test_box_is_rasterised_in_cam_coordinates():
    mask = box_mask(Box('a.png', 'Mass', 256, 512, 512, 256), (8, 8))
    expected = np.zeros((8, 8), dtype=bool)
    expected[4:6, 2:6] = True  # rows y 512-768 -> 4..5, cols x 256-768 -> 2..5
    np.testing.assert_array_equal(mask, expected)
    tiny = box_mask(Box('a.png', 'Nodule', 1000, 10, 4, 4), (8, 8))
    assert tiny.sum() == 1 and tiny[0, 7]


def test_scores_for_exact_shifted_and_half_overlapping_cams():
    box = Box('a.png', 'Mass', 256, 256, 512, 512)  # cells 2..5 on a 8x8 grid
    exact = np.zeros((8, 8))
    exact[2:6, 2:6] = 1.0
    shifted = np.roll(exact, 4, axis=1)
    shifted[:, :2] = 0
    half = np.zeros((8, 8))
    half[2:6, 2:6] = 1.0
    half[2:6, 6:8] = 1.0  # 16 box cells + 8 outside: IoU 16/24
    ious = cam_box_ious([exact, shifted, half], [box] * 3, thresholds=(0.5,))
    np.testing.assert_allclose(ious[0], [1.0, 0.0, 16 / 24])
    scores = localisation_scores(ious)
    np.testing.assert_allclose(scores['ap25'], [200 / 3])
    np.testing.assert_allclose(scores['ap50'], [200 / 3])
    np.testing.assert_allclose(scores['miou'], [100 * (1 + 16 / 24) / 3])


def test_threshold_search_prefers_the_box_over_its_halo():
    box = Box('a.png', 'Effusion', 256, 256, 512, 512)
    cam = np.zeros((8, 8))
    cam[1:7, 1:7] = 0.4  # halo
    cam[2:6, 2:6] = 1.0  # box
    thresholds = (0.2, 0.3, 0.5, 0.9)
    ious = cam_box_ious([cam], [box], thresholds)
    np.testing.assert_allclose(ious[:, 0], [16 / 36, 16 / 36, 1.0, 1.0])
    best = best_threshold(ious, thresholds)
    assert best['threshold'] == 0.5 and best['miou'] == 100.0
    with pytest.raises(KeyError, match='criterion'):
        best_threshold(ious, thresholds, criterion='dice')


def test_mask_iou_and_mismatched_inputs():
    a = np.array([[1, 1], [0, 0]], dtype=bool)
    assert mask_iou(a, a.T) == pytest.approx(1 / 3)
    assert mask_iou(np.zeros((2, 2), bool), np.zeros((2, 2), bool)) == 0.0
    with pytest.raises(ValueError, match='2 CAMs for 1 boxes'):
        cam_box_ious([a, a], [Box('a', 'Mass', 0, 0, 1, 1)])


def test_real_nih_box_file(shared_data):
    boxes = read_nih_boxes(shared_data / 'labels/nih_cxr14/BBox_List_2017.csv.gz')
    assert len(boxes) == 984
    assert boxes[0] == Box(
        '00013118_008.png',
        'Atelectasis',
        225.084745762712,
        547.019216763771,
        86.7796610169491,
        79.1864406779661,
    )
    labels = {box.label for box in boxes}
    assert 'Infiltration' in labels and 'Infiltrate' not in labels
    assert all(box.x + box.w <= 1024 + 1e-6 for box in boxes)
