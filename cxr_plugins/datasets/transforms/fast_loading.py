"""Fast training input path for chest radiographs: decode, crop and resize in one step.

The usual ImageNet pipeline (``open -> convert('RGB') -> RandomResizedCrop ->
flip -> ToTensor -> Normalize``, as in MAE, He et al., CVPR 2022,
https://arxiv.org/abs/2111.06377) decodes the whole 1024-px radiograph in three
channels and resamples it in float. Radiographs are grey and the crop is
resized to 224 px, so most of that work is thrown away. Here the crop box is
drawn first (the same distribution as torchvision's ``RandomResizedCrop``), then
only one grey channel is decoded, at the smallest JPEG DCT scale (1/2, 1/4,
1/8; libjpeg "draft" mode) that still gives at least ``size`` pixels across the
crop, and the crop is resized with OpenCV in uint8 (integer box average, then
bilinear). Normalisation is left to the model's data preprocessor, which does it
on the batch.

What no library does: torchvision and mmpretrain crop after a full decode;
PIL's ``draft`` and OpenCV's resize are used as they are.
"""

from __future__ import annotations

import math

import cv2
import numpy as np
from mmcv.transforms import BaseTransform
from mmpretrain.registry import TRANSFORMS

from cxr_plugins.datasets.transforms.grey_decoding import (
    INTERPOLATIONS,
    CropBox,
    decode_grey_region,
    resize_grey,
)
from cxr_plugins.datasets.transforms.image_cache import XRayImageCache


def sample_crop_box(
    height: int,
    width: int,
    scale: tuple[float, float],
    ratio: tuple[float, float],
    rng: np.random.RandomState = np.random,
    max_attempts: int = 10,
) -> CropBox:
    """Draw a RandomResizedCrop box ``(top, left, crop_h, crop_w)``.

    The algorithm of torchvision's ``RandomResizedCrop.get_params`` (Szegedy et
    al., https://arxiv.org/abs/1409.4842): area fraction uniform in ``scale``,
    aspect ratio log-uniform in ``ratio``, up to ``max_attempts`` tries, then a
    centre crop with the aspect ratio clamped to ``ratio``. ``rng`` is a
    ``RandomState`` or the ``numpy.random`` module (the default, which
    mmengine seeds per dataloader worker).
    """
    area = height * width
    log_ratio = (math.log(ratio[0]), math.log(ratio[1]))
    for _ in range(max_attempts):
        target_area = area * rng.uniform(scale[0], scale[1])
        aspect_ratio = math.exp(rng.uniform(log_ratio[0], log_ratio[1]))
        crop_w = int(round(math.sqrt(target_area * aspect_ratio)))
        crop_h = int(round(math.sqrt(target_area / aspect_ratio)))
        if 0 < crop_w <= width and 0 < crop_h <= height:
            top = int(rng.randint(0, height - crop_h + 1))
            left = int(rng.randint(0, width - crop_w + 1))
            return top, left, crop_h, crop_w
    in_ratio = width / height
    if in_ratio < min(ratio):
        crop_w = width
        crop_h = int(round(crop_w / min(ratio)))
    elif in_ratio > max(ratio):
        crop_h = height
        crop_w = int(round(crop_h * max(ratio)))
    else:
        crop_w, crop_h = width, height
    return (height - crop_h) // 2, (width - crop_w) // 2, crop_h, crop_w


class _RandomResizedCropMixin:
    """Arguments and output fields shared by the file and cache readers."""

    def _init_crop(
        self,
        size: int,
        scale: tuple[float, float],
        ratio: tuple[float, float],
        flip_prob: float,
        out_channels: int,
        interpolation: str = 'bicubic',
    ) -> None:
        if not 0 < scale[0] <= scale[1] <= 1:
            raise ValueError(f'scale must satisfy 0 < min <= max <= 1, got {scale}')
        if not 0 < ratio[0] <= ratio[1]:
            raise ValueError(f'ratio must satisfy 0 < min <= max, got {ratio}')
        if out_channels not in (1, 3):
            raise ValueError(f'out_channels must be 1 or 3, got {out_channels}')
        self.size = size
        self.scale = tuple(scale)
        self.ratio = tuple(ratio)
        self.flip_prob = flip_prob
        self.out_channels = out_channels
        if interpolation not in INTERPOLATIONS:
            raise ValueError(
                f'interpolation must be one of {sorted(INTERPOLATIONS)}, '
                f'got {interpolation!r}'
            )
        self.interpolation = interpolation

    def _draw_box(self, height: int, width: int) -> CropBox:
        return sample_crop_box(height, width, self.scale, self.ratio)

    def _finish(
        self, results: dict, crop: np.ndarray, box: CropBox, ori_shape: tuple[int, int]
    ) -> dict:
        image = resize_grey(crop, self.size, self.size, self.interpolation)
        flip = bool(np.random.rand() < self.flip_prob)
        if flip:
            image = cv2.flip(image, 1)
        if self.out_channels == 3:
            image = np.repeat(image[..., None], 3, axis=2)
        results.update(
            img=image,
            img_shape=image.shape[:2],
            ori_shape=ori_shape,
            crop_bbox=np.array([box[1], box[0], box[1] + box[3], box[0] + box[2]]),
            flip=flip,
            flip_direction='horizontal' if flip else None,
        )
        return results

    def _repr_args(self) -> str:
        return (
            f'size={self.size}, scale={self.scale}, ratio={self.ratio}, '
            f'flip_prob={self.flip_prob}, out_channels={self.out_channels}, '
            f'interpolation={self.interpolation!r}'
        )


@TRANSFORMS.register_module()
class FastXRayRandomResizedCrop(_RandomResizedCropMixin, BaseTransform):
    """Load + RandomResizedCrop + horizontal flip of a JPEG/PNG radiograph in one step.

    Replaces ``LoadImageFromFile -> RandomResizedCrop -> RandomFlip`` for grey
    training images (the seeds' ``LoadImage -> RandomResizedCrop -> RandomFlip``
    with ``scale`` = mmpretrain's ``crop_ratio_range`` and ``ratio`` = its
    ``aspect_ratio_range``); the crop box has the distribution of torchvision's
    ``RandomResizedCrop(size, scale, ratio)`` (drawn from numpy's global RNG, so
    mmengine's worker seeding applies). JPEGs are decoded in one grey channel at
    the smallest DCT scale that keeps ``size`` pixels across the crop; PNGs (8 or
    16 bit; 16 bit is mapped to 8 bit over the image's [min, max] as in
    ``LoadXRayImage``) are decoded in full, other formats (DICOM) by
    ``LoadXRayImage``'s reader. Unreadable files raise
    ``BadXRayImageError``.

    Required keys: ``img_path``. Added keys: ``img`` (uint8, ``size x size`` or
    ``size x size x 3``), ``img_shape``, ``ori_shape``, ``crop_bbox``
    (x1, y1, x2, y2 in original pixels), ``flip``, ``flip_direction``.
    Follow with ``PackInputs``; normalise in the data preprocessor.

    Args:
        size: Output side in pixels.
        scale: Range of the crop area as a fraction of the image.
        ratio: Range of the crop aspect ratio (width / height).
        flip_prob: Probability of a horizontal flip.
        out_channels: 1 (grey) or 3 (grey repeated, for 3-channel backbones).
        interpolation: ``'bicubic'`` (the seeds' choice) or ``'bilinear'``
            for the last resize stage, after the integer box reduction.
    """

    def __init__(
        self,
        size: int = 224,
        scale: tuple[float, float] = (0.08, 1.0),
        ratio: tuple[float, float] = (3 / 4, 4 / 3),
        flip_prob: float = 0.5,
        out_channels: int = 3,
        interpolation: str = 'bicubic',
    ) -> None:
        self._init_crop(size, scale, ratio, flip_prob, out_channels, interpolation)

    def transform(self, results: dict) -> dict:
        """Decode the crop of ``results['img_path']`` and resize it."""
        if 'img_path' not in results:
            raise KeyError("FastXRayRandomResizedCrop needs results['img_path']")
        crop, box, ori_shape = decode_grey_region(
            results['img_path'], self._draw_box, self.size
        )
        return self._finish(results, crop, box, ori_shape)

    def __repr__(self) -> str:
        return f'{self.__class__.__name__}({self._repr_args()})'


@TRANSFORMS.register_module()
class CachedXRayRandomResizedCrop(_RandomResizedCropMixin, BaseTransform):
    """RandomResizedCrop + flip read from a pre-resized memory-mapped image cache.

    The same augmentation as :class:`FastXRayRandomResizedCrop` (the crop box
    is drawn as a fraction of the image, so the stored resolution does not
    change its distribution), but the pixels come from a cache built by
    ``tools/data/build_image_cache.py`` instead of the image file. Crops are
    resized from the cached resolution: build the cache with ``size`` at least
    the output side divided by the square root of the smallest ``scale``
    you want at full detail. ``crop_bbox`` and ``ori_shape`` are in cached
    pixels.

    Args:
        cache_dir: The cache directory.
        data_root: Root that ``img_path`` is relative to; defaults to the root
            recorded in the cache.
        size, scale, ratio, flip_prob, out_channels: As in
            :class:`FastXRayRandomResizedCrop`.
    """

    def __init__(
        self,
        cache_dir: str,
        data_root: str | None = None,
        size: int = 224,
        scale: tuple[float, float] = (0.08, 1.0),
        ratio: tuple[float, float] = (3 / 4, 4 / 3),
        flip_prob: float = 0.5,
        out_channels: int = 3,
        interpolation: str = 'bicubic',
    ) -> None:
        self._init_crop(size, scale, ratio, flip_prob, out_channels, interpolation)
        self.cache = XRayImageCache(cache_dir, data_root)

    def transform(self, results: dict) -> dict:
        """Crop and resize the cached image of ``results['img_path']``."""
        if 'img_path' not in results:
            raise KeyError("CachedXRayRandomResizedCrop needs results['img_path']")
        stored = self.cache.get(results['img_path'])
        box = self._draw_box(*stored.shape)
        top, left, crop_h, crop_w = box
        crop = stored[top : top + crop_h, left : left + crop_w]
        return self._finish(results, crop, box, ori_shape=stored.shape)

    def __repr__(self) -> str:
        return (
            f'{self.__class__.__name__}(cache_dir={str(self.cache.cache_dir)!r}, '
            f'{self._repr_args()})'
        )
