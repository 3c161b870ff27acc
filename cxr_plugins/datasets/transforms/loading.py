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
import warnings

import numpy as np
from mmcv.transforms import BaseTransform
from mmpretrain.registry import TRANSFORMS
from PIL import Image, ImageFile, UnidentifiedImageError

DICOM_SUFFIXES = ('.dcm', '.dicom')
#: Every suffix the datasets and ``tools/infer.py`` accept (one list); files
#: without a suffix are accepted when their content is DICOM (:func:`is_dicom`).
IMAGE_SUFFIXES = (
    '.png',
    '.jpg',
    '.jpeg',
    '.bmp',
    '.tif',
    '.tiff',
    *DICOM_SUFFIXES,
)
#: Largest accepted image, in pixels (about 7000 x 7000): radiographs are at
#: most ~4300 x 4300; more is a corrupt or hostile header (decompression bomb).
MAX_PIXELS = 50_000_000


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


def is_dicom(path: str | os.PathLike) -> bool:
    """Whether ``path`` is a DICOM file by content: ``DICM`` at byte 128
    (PS3.10 preamble), whatever its name (PACS exports have none, ``IM0001``)."""
    try:
        with open(path, 'rb') as handle:
            handle.seek(128)
            return handle.read(4) == b'DICM'
    except OSError:
        return False


def is_image_file(path: str | os.PathLike) -> bool:
    """An accepted suffix (:data:`IMAGE_SUFFIXES`), or no suffix and DICOM
    content."""
    name = os.fspath(path).lower()
    if name.endswith(IMAGE_SUFFIXES):
        return True
    return '.' not in os.path.basename(name) and is_dicom(path)


def check_pixel_count(
    path: str | os.PathLike, height: int, width: int, limit: int = MAX_PIXELS
) -> None:
    """Raise :class:`BadXRayImageError` naming the file when ``height * width``
    exceeds ``limit`` (checked from the header, before decoding)."""
    if int(height) * int(width) > limit:
        raise BadXRayImageError(
            path,
            f'image header claims {width}x{height} = {int(height) * int(width):,} '
            f'pixels, above the limit of {limit:,} (decompression bomb or corrupt '
            'header)',
        )


def raster_size(path: str | os.PathLike) -> tuple[int, int]:
    """``(height, width)`` from a raster image header, without decoding."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter('ignore', Image.DecompressionBombWarning)
            with Image.open(path) as image:
                width, height = image.size
    except Image.DecompressionBombError as err:
        raise BadXRayImageError(
            path, f'image header claims too many pixels, decompression bomb ({err})'
        ) from err
    except UnidentifiedImageError as err:
        raise BadXRayImageError(path, 'not a recognised image format') from err
    except (OSError, SyntaxError, ValueError) as err:
        raise BadXRayImageError(path, f'cannot read image header ({err})') from err
    return height, width


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


def read_dicom_grey(path: str, max_pixels: int = MAX_PIXELS) -> np.ndarray:
    """Read a single-frame DICOM radiograph as uint8 grey (H, W).

    Order: modality LUT (rescale slope/intercept), then pydicom's
    ``apply_voi_lut`` (the VOI LUT sequence, else the first window with its
    ``VOILUTFunction``: LINEAR, LINEAR_EXACT or SIGMOID), scaled from its
    output range to [0, 255]; without a VOI, min-max scaling. MONOCHROME1
    images are inverted last so that bone is bright. Compressed transfer
    syntaxes (JPEG Lossless, JPEG-LS, JPEG 2000, RLE) decode through the
    pylibjpeg plug-ins of ``requirements/runtime.txt``.
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
    check_pixel_count(
        path, int(dataset.get('Rows', 0)), int(dataset.get('Columns', 0)), max_pixels
    )
    frames = int(getattr(dataset, 'NumberOfFrames', 1) or 1)
    if frames != 1:
        raise BadXRayImageError(path, f'expected 1 frame, found {frames}')
    try:
        pixels = dataset.pixel_array
    except Exception as err:  # pydicom raises many types for codec problems
        syntax = dataset.file_meta.get('TransferSyntaxUID', 'unknown')
        name = getattr(syntax, 'name', syntax)
        raise BadXRayImageError(
            path, f'DICOM pixel data ({name}) cannot be decoded ({err})'
        ) from err
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
    if 'VOILUTSequence' in dataset or (
        'WindowCenter' in dataset and 'WindowWidth' in dataset
    ):
        grey = voi_to_uint8(apply_voi_lut(pixels, dataset, index=0), dataset)
    else:
        grey = min_max_to_uint8(pixels)
    if photometric == 'MONOCHROME1':
        grey = 255 - grey
    return grey


def voi_output_range(dataset) -> tuple[float, float]:
    """``(y_min, y_max)``: the output range of ``apply_voi_lut`` on ``dataset``.

    A VOI LUT maps to ``[0, 2**bits - 1]`` (its descriptor's bits); a window
    maps to the stored range (PS3.3 C.11.2.1.2), after the rescale when there
    is one, as pydicom's ``apply_windowing`` computes it internally without
    exposing it.
    """
    if 'VOILUTSequence' in dataset:
        bits = int(dataset.VOILUTSequence[0].LUTDescriptor[2])
        return 0.0, float(2**bits - 1)
    if dataset.get('ModalityLUTSequence'):
        bits = int(dataset.ModalityLUTSequence[0].LUTDescriptor[2])
        low, high = 0.0, float(2**bits - 1)
    elif int(dataset.get('PixelRepresentation', 0)) == 0:
        low, high = 0.0, float(2 ** int(dataset.BitsStored) - 1)
    else:
        half = 2 ** (int(dataset.BitsStored) - 1)
        low, high = float(-half), float(half - 1)
    slope, intercept = dataset.get('RescaleSlope'), dataset.get('RescaleIntercept')
    if slope is not None and intercept is not None:
        low = low * float(slope) + float(intercept)
        high = high * float(slope) + float(intercept)
    return low, high


def voi_to_uint8(values: np.ndarray, dataset) -> np.ndarray:
    """Scale the output of ``apply_voi_lut`` from :func:`voi_output_range`
    onto [0, 255] (not by the image's own min/max: the window keeps its
    meaning)."""
    low, high = voi_output_range(dataset)
    scaled = (np.clip(values.astype(np.float64), low, high) - low) * (
        255.0 / (high - low)
    )
    return np.rint(scaled).astype(np.uint8)


def read_raster_grey(path: str, max_pixels: int = MAX_PIXELS) -> np.ndarray:
    """Read a PNG/JPEG/other raster image as uint8 grey (H, W) with Pillow.

    Modes: ``L`` as is; ``1``, ``P``, ``RGB``, ``RGBA``, ``LA``, ``CMYK``,
    ``YCbCr`` through Pillow's ITU-R 601 luma conversion (alpha is dropped, not
    composited); 16-bit (``I;16*``), 32-bit (``I``) and float (``F``) images by
    :func:`min_max_to_uint8`. The header's pixel count is checked against
    ``max_pixels`` before decoding.
    """
    if os.path.getsize(path) == 0:
        raise BadXRayImageError(path, 'file is empty (0 bytes)')
    check_pixel_count(path, *raster_size(path), limit=max_pixels)
    if ImageFile.LOAD_TRUNCATED_IMAGES:
        raise RuntimeError(
            'PIL.ImageFile.LOAD_TRUNCATED_IMAGES is True somewhere in this '
            'process: truncated radiographs would load as partly grey images'
        )
    try:
        with warnings.catch_warnings():
            warnings.simplefilter('ignore', Image.DecompressionBombWarning)
            image = Image.open(path)
        with image:
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

    Reads 8/16-bit PNG, JPEG and other Pillow formats, and DICOM (recognised
    by content, whatever the file name) through pydicom, see
    :func:`read_raster_grey` and :func:`read_dicom_grey` for the intensity
    mapping.

    Required keys: ``img_path``. Added keys: ``img`` (uint8, ``(H, W, 3)`` when
    ``to_rgb`` else ``(H, W)``), ``img_shape``, ``ori_shape`` (both ``(H, W)``).

    Args:
        to_rgb: Replicate the grey channel to 3 channels (ImageNet-shaped
            backbones take 3). Defaults to True.
        min_size: Smallest accepted height and width; smaller images (e.g. a
            1x1 placeholder) raise :class:`BadXRayImageError`. Defaults to 2.
        max_pixels: Largest accepted height x width, read from the header
            before decoding. Defaults to :data:`MAX_PIXELS`.

    Raises:
        BadXRayImageError: for a missing, empty, truncated or undecodable file,
            a DICOM without pixel data, or an image below ``min_size``.
    """

    def __init__(
        self, to_rgb: bool = True, min_size: int = 2, max_pixels: int = MAX_PIXELS
    ):
        if min_size < 1:
            raise ValueError(f'min_size must be >= 1, got {min_size}')
        self.to_rgb = to_rgb
        self.min_size = min_size
        self.max_pixels = max_pixels

    def read_grey(self, path: str) -> np.ndarray:
        """Read ``path`` into a uint8 (H, W) array, validating it."""
        if not os.path.isfile(path):
            raise BadXRayImageError(path, 'file does not exist')
        if path.lower().endswith(DICOM_SUFFIXES) or is_dicom(path):
            grey = read_dicom_grey(path, self.max_pixels)
        else:
            grey = read_raster_grey(path, self.max_pixels)
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
