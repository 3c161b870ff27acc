"""Localisation quality of CAMs against NIH ChestX-ray14 expert boxes.

The protocol of EVA-X's ``grad_cam/get_cams.py`` (Yao et al.,
https://arxiv.org/abs/2405.05237): binarise each image's CAM for the boxed
finding at a threshold, take the IoU of that mask with the box, and report
AP25 / AP50 (fraction of boxes with IoU >= 0.25 / 0.5) and mIoU, searching the
threshold over 0.01-0.60. The box file is NIH's ``BBox_List_2017.csv``
(``Image Index, Finding Label, Bbox [x, y, w, h]`` in 1024-px coordinates).
"""

from __future__ import annotations

import os
from dataclasses import dataclass

import numpy as np

#: NIH box labels that differ from the ChestX-ray14 class names.
BOX_LABEL_TO_CLASS = {'Infiltrate': 'Infiltration'}
#: Side of the original NIH images, the coordinate system of the boxes.
NIH_IMAGE_SIZE = 1024
DEFAULT_THRESHOLDS = tuple(np.round(np.arange(0.01, 0.605, 0.01), 2))


@dataclass(frozen=True)
class Box:
    """One expert box: image name, class name, ``x, y, w, h`` in source pixels."""

    image: str
    label: str
    x: float
    y: float
    w: float
    h: float


def read_nih_boxes(path: str | os.PathLike) -> list[Box]:
    """Read ``BBox_List_2017.csv(.gz)``; box labels are mapped to class names.

    Raises:
        KeyError: A column is missing (names the file and the columns found).
        ValueError: A box has a non-positive width or height (names the line).
    """
    import pandas as pd

    frame = pd.read_csv(path)
    columns = ['Image Index', 'Finding Label', 'Bbox [x', 'y', 'w', 'h]']
    missing = [name for name in columns if name not in frame.columns]
    if missing:
        raise KeyError(
            f'{path}: missing column(s) {missing}; found {list(frame.columns)}'
        )
    boxes = []
    for line, row in enumerate(frame[columns].itertuples(index=False), start=2):
        image, label, x, y, w, h = row
        if not (w > 0 and h > 0):
            raise ValueError(f'{path}, line {line}: box {w}x{h} is empty')
        boxes.append(
            Box(
                image,
                BOX_LABEL_TO_CLASS.get(label, label),
                float(x),
                float(y),
                float(w),
                float(h),
            )
        )
    return boxes


def box_mask(
    box: Box,
    out_size: tuple[int, int],
    source_size: tuple[int, int] = (NIH_IMAGE_SIZE, NIH_IMAGE_SIZE),
) -> np.ndarray:
    """Rasterise a box given in ``source_size`` pixels onto an ``out_size`` grid.

    A grid cell belongs to the box when its centre lies inside the scaled box;
    at least one cell is always set.

    Args:
        box: The box.
        out_size: ``(height, width)`` of the CAM.
        source_size: ``(height, width)`` the box coordinates refer to.

    Returns:
        Boolean ``(height, width)`` mask.
    """
    height, width = out_size
    scale_y, scale_x = height / source_size[0], width / source_size[1]
    centres_y = np.arange(height) + 0.5
    centres_x = np.arange(width) + 0.5
    inside_y = (centres_y >= box.y * scale_y) & (centres_y <= (box.y + box.h) * scale_y)
    inside_x = (centres_x >= box.x * scale_x) & (centres_x <= (box.x + box.w) * scale_x)
    mask = inside_y[:, None] & inside_x[None, :]
    if not mask.any():  # box smaller than one cell: take the cell holding its centre
        row = min(int((box.y + box.h / 2) * scale_y), height - 1)
        col = min(int((box.x + box.w / 2) * scale_x), width - 1)
        mask[row, col] = True
    return mask


def mask_iou(prediction: np.ndarray, target: np.ndarray) -> float:
    """Intersection over union of two boolean masks (0 when both are empty)."""
    union = np.logical_or(prediction, target).sum()
    if union == 0:
        return 0.0
    return float(np.logical_and(prediction, target).sum() / union)


def normalise_cam(cam: np.ndarray) -> np.ndarray:
    """Min-max scale a CAM to ``[0, 1]`` (a constant CAM becomes all zeros)."""
    low, high = float(cam.min()), float(cam.max())
    if high <= low:
        return np.zeros_like(cam, dtype=np.float64)
    return (cam - low) / (high - low)


def cam_box_ious(
    cams: list[np.ndarray],
    boxes: list[Box],
    thresholds: tuple[float, ...] = DEFAULT_THRESHOLDS,
    source_size: tuple[int, int] = (NIH_IMAGE_SIZE, NIH_IMAGE_SIZE),
) -> np.ndarray:
    """IoU of every thresholded CAM with its box.

    Args:
        cams: One CAM per box (for the box's class), any resolution.
        boxes: The boxes, same order.
        thresholds: CAM values (after min-max scaling) at or above which a
            pixel is foreground.
        source_size: Coordinate frame of the boxes.

    Returns:
        ``(len(thresholds), len(boxes))`` IoUs.
    """
    if len(cams) != len(boxes):
        raise ValueError(f'{len(cams)} CAMs for {len(boxes)} boxes')
    ious = np.zeros((len(thresholds), len(boxes)))
    for column, (cam, box) in enumerate(zip(cams, boxes)):
        scaled = normalise_cam(cam)
        target = box_mask(box, scaled.shape, source_size)
        for row, threshold in enumerate(thresholds):
            ious[row, column] = mask_iou(scaled >= threshold, target)
    return ious


def localisation_scores(ious: np.ndarray) -> dict[str, np.ndarray]:
    """AP25, AP50 and mIoU (percent) per threshold from :func:`cam_box_ious`."""
    return dict(
        ap25=100 * (ious >= 0.25).mean(axis=1),
        ap50=100 * (ious >= 0.5).mean(axis=1),
        miou=100 * ious.mean(axis=1),
    )


def best_threshold(
    ious: np.ndarray,
    thresholds: tuple[float, ...] = DEFAULT_THRESHOLDS,
    criterion: str = 'miou',
) -> dict[str, float]:
    """The threshold that maximises ``criterion`` and the scores there.

    Choosing the threshold on the evaluated boxes themselves is what EVA-X
    reports; it is optimistic. Pass a held-out choice to ``cam_box_ious`` with
    a single threshold for an unbiased number.
    """
    scores = localisation_scores(ious)
    if criterion not in scores:
        raise KeyError(f'criterion {criterion!r}; expected one of {sorted(scores)}')
    row = int(np.argmax(scores[criterion]))
    return dict(
        threshold=float(thresholds[row]),
        **{name: float(values[row]) for name, values in scores.items()},
    )
