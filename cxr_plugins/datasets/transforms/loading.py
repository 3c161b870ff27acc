"""Loading chest radiographs from PNG (8/16-bit), JPEG and DICOM files.

mmcv's ``LoadImageFromFile`` decodes through OpenCV, which returns a partly
grey image for a truncated JPEG with only a warning, drops the DICOM format and
squeezes 16-bit PNGs without a documented scaling. ``LoadXRayImage`` reads every
radiograph to one grey channel with an explicit, documented intensity mapping,
and raises :class:`BadXRayImageError` (naming the file and the reason) for
anything it cannot read faithfully: never a silently wrong tensor.
"""

from __future__ import annotations

import os

import numpy as np
from mmcv.transforms import BaseTransform
from mmpretrain.registry import TRANSFORMS
from PIL import Image, ImageFile, UnidentifiedImageError

DICOM_SUFFIXES = ('.dcm', '.dicom')


class BadXRayImageError(ValueError):
    """An image file that cannot be read faithfully.

    Attributes:
        path: The file.
        reason: Why it was rejected.
    """

    def __init__(self, path: str, reason: str):
        self.path = str(path)
        self.reason = reason
        super().__init__(f'{path}: {reason}')


def min_max_to_uint8(pixels: np.ndarray) -> np.ndarray:
    """Linearly map ``[min, max]`` of an image onto ``[0, 255]`` (rounded).

    Used for 16-bit PNGs, 32-bit/float images and DICOMs without a VOI window.
    A constant image maps to all zeros.
    """
    pixels = pixels.astype(np.float64)
    low, high = float(pixels.min()), float(pixels.max())
    if high <= low:
        return np.zeros(pixels.shape, dtype=np.uint8)
    scaled = (pixels - low) * (255.0 / (high - low))
    return np.rint(scaled).astype(np.uint8)


def window_to_uint8(pixels: np.ndarray, center: float, width: float) -> np.ndarray:
    """Apply a DICOM linear VOI window and map it onto ``[0, 255]``.

    Implements the 'LINEAR' function of DICOM PS3.3 C.11.2.1.2.1: values at or
    below ``c - 0.5 - (w - 1) / 2`` become 0, above ``c - 0.5 + (w - 1) / 2``
    become 255, and the rest ``((x - (c - 0.5)) / (w - 1) + 0.5) * 255``.
    """
    if width < 1:
        raise ValueError(f'DICOM WindowWidth must be >= 1, got {width}')
    pixels = pixels.astype(np.float64)
    if width == 1:
        return np.where(pixels > center - 0.5, 255, 0).astype(np.uint8)
    scaled = ((pixels - (center - 0.5)) / (width - 1) + 0.5) * 255.0
    return np.rint(np.clip(scaled, 0.0, 255.0)).astype(np.uint8)


def _first_value(value) -> float:
    """WindowCenter/Width may be multi-valued: the first one is the default."""
    from pydicom.multival import MultiValue

    if isinstance(value, (MultiValue, list, tuple)):
        return float(value[0])
    return float(value)


def read_dicom_grey(path: str) -> np.ndarray:
    """Read a single-frame DICOM radiograph as uint8 grey (H, W).

    Order: modality LUT (rescale slope/intercept), then the VOI LUT sequence if
    present, else the first VOI window (WindowCenter/WindowWidth), else min-max
    scaling; MONOCHROME1 images are inverted last so that bone is bright.
    """
    import pydicom
    from pydicom.errors import InvalidDicomError
    from pydicom.pixels import apply_modality_lut, apply_voi_lut

    try:
        dataset = pydicom.dcmread(path)
    except (InvalidDicomError, EOFError, OSError) as err:
        raise BadXRayImageError(path, f'not a readable DICOM file ({err})') from err
    if 'PixelData' not in dataset:
        raise BadXRayImageError(path, 'DICOM file has no PixelData element')
    try:
        pixels = dataset.pixel_array
    except Exception as err:  # pydicom raises many types for codec problems
        raise BadXRayImageError(
            path, f'DICOM pixel data cannot be decoded ({err})'
        ) from err
    frames = int(getattr(dataset, 'NumberOfFrames', 1) or 1)
    if frames != 1:
        raise BadXRayImageError(path, f'expected 1 frame, found {frames}')
    photometric = str(getattr(dataset, 'PhotometricInterpretation', 'MONOCHROME2'))
    if photometric not in ('MONOCHROME1', 'MONOCHROME2'):
        if pixels.ndim == 3 and pixels.shape[-1] == 3:
            # pydicom 3 returns YBR pixel data converted to RGB
            luma = pixels.astype(np.float64) @ np.array([0.299, 0.587, 0.114])
            return min_max_to_uint8(luma)
        raise BadXRayImageError(
            path, f'unsupported PhotometricInterpretation {photometric!r}'
        )
    pixels = apply_modality_lut(pixels, dataset)
    if 'VOILUTSequence' in dataset:
        grey = min_max_to_uint8(apply_voi_lut(pixels, dataset))
    elif 'WindowCenter' in dataset and 'WindowWidth' in dataset:
        grey = window_to_uint8(
            pixels,
            _first_value(dataset.WindowCenter),
            _first_value(dataset.WindowWidth),
        )
    else:
        grey = min_max_to_uint8(pixels)
    if photometric == 'MONOCHROME1':
        grey = 255 - grey
    return grey


def read_raster_grey(path: str) -> np.ndarray:
    """Read a PNG/JPEG/other raster image as uint8 grey (H, W) with Pillow.

    Modes: ``L`` as is; ``1``, ``P``, ``RGB``, ``RGBA``, ``LA``, ``CMYK``,
    ``YCbCr`` through Pillow's ITU-R 601 luma conversion (alpha is dropped, not
    composited); 16-bit (``I;16*``), 32-bit (``I``) and float (``F``) images by
    :func:`min_max_to_uint8`.
    """
    if os.path.getsize(path) == 0:
        raise BadXRayImageError(path, 'file is empty (0 bytes)')
    if ImageFile.LOAD_TRUNCATED_IMAGES:
        raise RuntimeError(
            'PIL.ImageFile.LOAD_TRUNCATED_IMAGES is True somewhere in this '
            'process: truncated radiographs would load as partly grey images'
        )
    try:
        with Image.open(path) as image:
            image.load()
            mode = image.mode
            if mode.startswith('I') or mode == 'F':
                return min_max_to_uint8(np.asarray(image))
            if mode != 'L':
                image = image.convert('L')
            return np.asarray(image, dtype=np.uint8).copy()
    except UnidentifiedImageError as err:
        raise BadXRayImageError(path, 'not a recognised image format') from err
    except (OSError, SyntaxError, ValueError) as err:
        raise BadXRayImageError(path, f'cannot decode image ({err})') from err


@TRANSFORMS.register_module()
class LoadXRayImage(BaseTransform):
    """Load a radiograph as one grey channel (optionally replicated to 3).

    Reads 8/16-bit PNG, JPEG and other Pillow formats, and DICOM (``.dcm`` /
    ``.dicom``) through pydicom, see :func:`read_raster_grey` and
    :func:`read_dicom_grey` for the intensity mapping.

    Required keys: ``img_path``. Added keys: ``img`` (uint8, ``(H, W, 3)`` when
    ``to_rgb`` else ``(H, W)``), ``img_shape``, ``ori_shape`` (both ``(H, W)``).

    Args:
        to_rgb: Replicate the grey channel to 3 channels (ImageNet-shaped
            backbones take 3). Defaults to True.
        min_size: Smallest accepted height and width; smaller images (e.g. a
            1x1 placeholder) raise :class:`BadXRayImageError`. Defaults to 2.

    Raises:
        BadXRayImageError: for a missing, empty, truncated or undecodable file,
            a DICOM without pixel data, or an image below ``min_size``.
    """

    def __init__(self, to_rgb: bool = True, min_size: int = 2):
        if min_size < 1:
            raise ValueError(f'min_size must be >= 1, got {min_size}')
        self.to_rgb = to_rgb
        self.min_size = min_size

    def read_grey(self, path: str) -> np.ndarray:
        """Read ``path`` into a uint8 (H, W) array, validating it."""
        if not os.path.isfile(path):
            raise BadXRayImageError(path, 'file does not exist')
        if path.lower().endswith(DICOM_SUFFIXES):
            grey = read_dicom_grey(path)
        else:
            grey = read_raster_grey(path)
        if grey.ndim != 2:
            raise BadXRayImageError(path, f'expected a 2-D image, got {grey.shape}')
        height, width = grey.shape
        if min(height, width) < self.min_size:
            raise BadXRayImageError(
                path, f'image is {height}x{width}, below min_size={self.min_size}'
            )
        return grey

    def transform(self, results: dict) -> dict:
        """Load ``results['img_path']`` into ``results['img']``."""
        grey = self.read_grey(str(results['img_path']))
        img = np.repeat(grey[..., None], 3, axis=2) if self.to_rgb else grey
        results['img'] = img
        results['img_shape'] = grey.shape
        results['ori_shape'] = grey.shape
        return results

    def __repr__(self) -> str:
        return (
            f'{self.__class__.__name__}(to_rgb={self.to_rgb}, min_size={self.min_size})'
        )
