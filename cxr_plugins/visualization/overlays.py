"""Segmentation overlays a reader can check: radiograph visible, GT beside prediction.

One picture per image: the radiograph twice, side by side, ground truth
(green) on the left and prediction (red, with the ground-truth outline in
thin green for reference) on the right, each as a translucent fill with a solid
contour, and a title bar with the image name and its per-image Dice. mmseg's
``SegVisualizationHook`` paints opaque class colours over the image and labels
the mask "background"; this is what replaces it for ``tools/test.py
--show-dir``. Everything is drawn after shrinking to at most ``max_side``
pixels (area interpolation for the image, nearest for the masks), so the cost
does not grow with 1024 px inputs.
"""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
from PIL import Image

GT_COLOUR = (60, 200, 60)  # BGR green
PRED_COLOUR = (40, 40, 230)  # BGR red
FILL_ALPHA = 0.3
DEFAULT_MAX_SIDE = 384
TITLE_HEIGHT = 28
TITLE_FONT_SCALE = 0.45


def bounded_size(shape: tuple[int, int], max_side: int) -> tuple[int, int]:
    """``(width, height)`` of ``shape`` shrunk so its longer side is <= max_side."""
    height, width = shape
    scale = min(1.0, max_side / max(height, width))
    return max(1, round(width * scale)), max(1, round(height * scale))


#: OpenCV flags that decode at 1/2, 1/4, 1/8 scale (JPEG: DCT scaling, much
#: cheaper than decoding a 1024 px radiograph in full and shrinking it).
REDUCED_READS = (
    (8, cv2.IMREAD_REDUCED_GRAYSCALE_8),
    (4, cv2.IMREAD_REDUCED_GRAYSCALE_4),
    (2, cv2.IMREAD_REDUCED_GRAYSCALE_2),
)


def read_grey_bounded(path: str | Path, max_side: int) -> np.ndarray:
    """Read an image as 8-bit grey at most ``max_side`` pixels on its longer side.

    The header (read by Pillow without decoding) gives the size, and the
    image is decoded at the largest reduction that still leaves at least
    ``max_side`` pixels, then shrunk with area interpolation.

    Raises:
        FileNotFoundError: The file cannot be read as an image.
    """
    flag = cv2.IMREAD_GRAYSCALE
    try:
        with Image.open(path) as header:
            longest = max(header.size)
        for factor, reduced in REDUCED_READS:
            if longest // factor >= max_side:
                flag = reduced
                break
    except (OSError, ValueError):
        pass  # not a format Pillow knows; OpenCV decides below
    image = cv2.imread(str(path), flag)
    if image is None:
        raise FileNotFoundError(f'cannot read image {path}')
    size = bounded_size(image.shape[:2], max_side)
    if size != (image.shape[1], image.shape[0]):
        image = cv2.resize(image, size, interpolation=cv2.INTER_AREA)
    return image


def shrink_mask(mask: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """0/1 mask resized to ``(width, height)`` by nearest neighbour."""
    if (mask.shape[1], mask.shape[0]) == size:
        return mask.astype(np.uint8)
    return cv2.resize(mask.astype(np.uint8), size, interpolation=cv2.INTER_NEAREST)


def _paint(
    canvas: np.ndarray, mask: np.ndarray, colour: tuple, thickness: int, fill: bool
) -> None:
    if fill and mask.any():
        tinted = canvas.copy()
        tinted[mask > 0] = colour
        cv2.addWeighted(tinted, FILL_ALPHA, canvas, 1 - FILL_ALPHA, 0, dst=canvas)
    contours, _ = cv2.findContours(
        mask.astype(np.uint8), cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE
    )
    cv2.drawContours(canvas, contours, -1, colour, thickness, lineType=cv2.LINE_AA)


def _label(
    canvas: np.ndarray, text: str, origin: tuple[int, int], scale: float
) -> None:
    cv2.putText(
        canvas, text, origin, cv2.FONT_HERSHEY_SIMPLEX, scale, (0, 0, 0), 3, cv2.LINE_AA
    )
    cv2.putText(
        canvas,
        text,
        origin,
        cv2.FONT_HERSHEY_SIMPLEX,
        scale,
        (255, 255, 255),
        1,
        cv2.LINE_AA,
    )


def side_by_side(
    image: np.ndarray,
    ground_truth: np.ndarray,
    prediction: np.ndarray,
    title: str,
    max_side: int = DEFAULT_MAX_SIDE,
) -> np.ndarray:
    """Ground truth | prediction on the radiograph, with a title bar.

    Args:
        image: ``(H, W)`` grey or ``(H, W, 3)`` BGR uint8 radiograph (any
            size; shrunk to ``max_side``).
        ground_truth: ``(h, w)`` 0/1 mask (resized to the image if needed).
        prediction: ``(h, w)`` 0/1 mask.
        title: Text of the title bar (e.g. the image name and its Dice).
        max_side: Longest side of each panel in pixels.

    Returns:
        ``(TITLE_HEIGHT + h', 2 w', 3)`` uint8 BGR picture.
    """
    if image.ndim == 2:
        image = cv2.cvtColor(image, cv2.COLOR_GRAY2BGR)
    size = bounded_size(image.shape[:2], max_side)
    if size != (image.shape[1], image.shape[0]):
        image = cv2.resize(image, size, interpolation=cv2.INTER_AREA)
    truth = shrink_mask(ground_truth, size)
    predicted = shrink_mask(prediction, size)
    thickness = max(1, round(max(size) / 192))
    left, right = image.copy(), image.copy()
    _paint(left, truth, GT_COLOUR, thickness, fill=True)
    _paint(right, predicted, PRED_COLOUR, thickness, fill=True)
    _paint(right, truth, GT_COLOUR, 1, fill=False)
    scale = max(0.35, size[0] / 640)
    _label(left, 'ground truth', (6, size[1] - 8), scale)
    _label(right, 'prediction', (6, size[1] - 8), scale)
    bar = np.full((TITLE_HEIGHT, 2 * size[0], 3), 255, np.uint8)
    text = fit_text(title, 2 * size[0] - 12, TITLE_FONT_SCALE)
    cv2.putText(
        bar,
        text,
        (6, 19),
        cv2.FONT_HERSHEY_SIMPLEX,
        TITLE_FONT_SCALE,
        (0, 0, 0),
        1,
        cv2.LINE_AA,
    )
    return np.vstack([bar, np.hstack([left, right])])


def fit_text(text: str, width: int, scale: float) -> str:
    """``text`` with its start replaced by ``..`` until it fits ``width`` px.

    The end (where the Dice is) is what a reader needs, so the start goes.
    """

    def wide(candidate: str) -> bool:
        size = cv2.getTextSize(candidate, cv2.FONT_HERSHEY_SIMPLEX, scale, 1)[0][0]
        return size > width

    cut = 0
    while wide(text if cut == 0 else '..' + text[cut:]) and cut < len(text) - 1:
        cut += 1
    return text if cut == 0 else '..' + text[cut:]
