"""Grey decoding primitives of the fast input path: draft-mode JPEG, 16-bit PNG, resize.

Shared by :mod:`~cxr_plugins.datasets.transforms.fast_loading` (crops at
training time) and :mod:`~cxr_plugins.datasets.transforms.image_cache` (the
pre-resized cache). Pillow's ``draft`` and OpenCV's resize do the work; this
module only picks the DCT scale and the crop box in reduced pixels.
"""

from __future__ import annotations

import math
import os
from collections.abc import Callable
from pathlib import Path

import cv2
import numpy as np
from PIL import Image

from cxr_plugins.datasets.transforms.loading import (
    BadXRayImageError,
    LoadXRayImage,
    check_pixel_count,
    raster_size,
)

JPEG_SUFFIXES = ('.jpg', '.jpeg')
PNG_SUFFIXES = ('.png',)
CropBox = tuple[int, int, int, int]


def draft_reduction(
    image_size: tuple[int, int], crop_size: tuple[int, int], out_size: int
) -> tuple[int, int]:
    """The ``(width, height)`` to ask ``Image.draft`` for.

    libjpeg picks the largest DCT reduction ``r`` in {1, 2, 4, 8} with
    ``image_size // r >= request``; requesting the image size scaled by
    ``out_size / min(crop side)`` guarantees the reduced crop keeps at least
    ``out_size`` pixels on both sides.
    """
    crop_h, crop_w = crop_size
    factor = min(crop_w, crop_h) / out_size
    if factor <= 1:
        return image_size
    return (
        max(1, math.ceil(image_size[0] / factor)),
        max(1, math.ceil(image_size[1] / factor)),
    )


def stretch_to_uint8(image: np.ndarray) -> np.ndarray:
    """Map ``[min, max]`` of a 16-bit image onto ``[0, 255]``, rounded.

    ``LoadXRayImage``'s ``min_max_to_uint8`` in one OpenCV pass (no float64
    copies); equal to it up to rounding ties (at most 1 grey level).
    """
    low, high = float(image.min()), float(image.max())
    if high <= low:
        return np.zeros(image.shape, dtype=np.uint8)
    alpha = 255.0 / (high - low)
    return cv2.convertScaleAbs(image, alpha=alpha, beta=-low * alpha)


def decode_grey_region(
    path: str | os.PathLike,
    crop_box_fn: Callable[[int, int], CropBox],
    out_size: int,
) -> tuple[np.ndarray, CropBox, tuple[int, int]]:
    """Decode one grey channel, as small as the crop allows, and return the crop.

    Args:
        path: A radiograph. JPEGs are decoded at reduced DCT scale; PNGs in
            full by OpenCV (16-bit mapped to 8 bits over their own [min, max],
            as ``LoadXRayImage`` does); other formats (DICOM, ...) in full by
            ``LoadXRayImage``'s reader.
        crop_box_fn: Called with ``(height, width)`` of the full image, returns
            the crop box ``(top, left, h, w)`` in full-resolution pixels.
        out_size: Side of the network input; JPEGs are never decoded so small
            that the crop has fewer pixels than this.

    Returns:
        The crop (a view into the decoded image), the box in full-resolution
        pixels and the full-resolution ``(height, width)``.

    Raises:
        BadXRayImageError: The file cannot be decoded (so that
            ``skip_bad_images`` of the datasets applies).
    """
    suffix = Path(path).suffix.lower()
    if suffix in JPEG_SUFFIXES + PNG_SUFFIXES:
        # from the header, before OpenCV/Pillow allocate the claimed size
        check_pixel_count(path, *raster_size(path))
    if suffix in JPEG_SUFFIXES:
        try:
            with Image.open(path) as pil_image:
                width, height = pil_image.size
                box = crop_box_fn(height, width)
                pil_image.draft(
                    'L', draft_reduction((width, height), box[2:], out_size)
                )
                decoded = np.asarray(pil_image.convert('L'))
        except (OSError, Image.DecompressionBombError) as err:
            raise BadXRayImageError(path, f'Pillow cannot decode it: {err}') from err
    elif suffix in PNG_SUFFIXES:
        decoded = cv2.imread(str(path), cv2.IMREAD_ANYDEPTH | cv2.IMREAD_GRAYSCALE)
        if decoded is None:
            raise BadXRayImageError(path, 'OpenCV cannot decode this PNG')
        if decoded.dtype != np.uint8:
            decoded = stretch_to_uint8(decoded)
        height, width = decoded.shape
        box = crop_box_fn(height, width)
    else:
        # DICOM and other formats: LoadXRayImage's full decode and intensity
        # mapping, so every dataset can use the same training transform.
        decoded = LoadXRayImage(to_rgb=False).read_grey(str(path))
        height, width = decoded.shape
        box = crop_box_fn(height, width)
    reduced_box = scale_box(box, (height, width), decoded.shape[:2])
    top, left, crop_h, crop_w = reduced_box
    return decoded[top : top + crop_h, left : left + crop_w], box, (height, width)


def scale_box(
    box: CropBox, full_shape: tuple[int, int], reduced_shape: tuple[int, int]
) -> CropBox:
    """Map a box from full-resolution to reduced-decode pixels (outward rounding)."""
    sy = reduced_shape[0] / full_shape[0]
    sx = reduced_shape[1] / full_shape[1]
    top, left, crop_h, crop_w = box
    top_r, left_r = math.floor(top * sy), math.floor(left * sx)
    bottom_r = min(reduced_shape[0], math.ceil((top + crop_h) * sy))
    right_r = min(reduced_shape[1], math.ceil((left + crop_w) * sx))
    return top_r, left_r, bottom_r - top_r, right_r - left_r


#: Second-stage OpenCV interpolation by name (mmpretrain/Pillow names).
INTERPOLATIONS = {'bilinear': cv2.INTER_LINEAR, 'bicubic': cv2.INTER_CUBIC}


def resize_grey(
    image: np.ndarray, out_height: int, out_width: int, interpolation: str = 'bilinear'
) -> np.ndarray:
    """Resize a grey uint8 image, antialiased when shrinking.

    Two stages, as Pillow's ``reducing_gap``: box-average by the integer factor
    ``k = min(height // out_height, width // out_width)`` (OpenCV's fast integer
    ``INTER_AREA`` path), then ``interpolation`` (bilinear or bicubic) for the
    remaining factor below 2, where antialiasing no longer matters. Close to a
    one-pass ``INTER_AREA`` (under one grey level mean absolute difference on
    1024-px radiographs) and several times faster.
    """
    if interpolation not in INTERPOLATIONS:
        raise ValueError(
            f'interpolation must be one of {sorted(INTERPOLATIONS)}, '
            f'got {interpolation!r}'
        )
    height, width = image.shape[:2]
    factor = min(height // out_height, width // out_width)
    if factor >= 2:
        image = cv2.resize(
            image[: height // factor * factor, : width // factor * factor],
            (width // factor, height // factor),
            interpolation=cv2.INTER_AREA,
        )
    return cv2.resize(
        image, (out_width, out_height), interpolation=INTERPOLATIONS[interpolation]
    )
