"""Correctness of the fast radiograph input path and the image cache (no speed)."""

from pathlib import Path

import cv2
import numpy as np
import pytest
import torch
from mmpretrain.datasets.transforms import PackInputs
from mmpretrain.registry import TRANSFORMS
from PIL import Image
from scipy.stats import ks_2samp
from torchvision.transforms import RandomResizedCrop

import cxr_plugins  # noqa: F401  (registers the transforms)
from cxr_plugins.datasets.transforms.fast_loading import sample_crop_box
from cxr_plugins.datasets.transforms.grey_decoding import decode_grey_region
from cxr_plugins.datasets.transforms.image_cache import (
    XRayImageCache,
    build_image_cache,
    fit_longer_side,
)
from cxr_plugins.datasets.transforms.loading import BadXRayImageError, min_max_to_uint8

pytestmark = pytest.mark.usefixtures('mmpretrain_scope')

SCALE = (0.08, 1.0)
RATIO = (3 / 4, 4 / 3)


@pytest.fixture(scope='module')
def siim_images(shared_data: Path) -> list[Path]:
    paths = sorted((shared_data / 'siim_acr_sample' / 'images').glob('*.jpg'))
    assert len(paths) == 14
    return paths


def torchvision_boxes(
    height: int, width: int, count: int, scale=SCALE, ratio=RATIO
) -> np.ndarray:
    torch.manual_seed(0)
    image = torch.empty(1, height, width)
    return np.array(
        [
            RandomResizedCrop.get_params(image, list(scale), list(ratio))
            for _ in range(count)
        ]
    )


def test_crop_box_distribution_matches_torchvision():
    height, width, count = 1024, 832, 3000
    rng = np.random.RandomState(0)
    ours = np.array(
        [sample_crop_box(height, width, SCALE, RATIO, rng) for _ in range(count)]
    )
    reference = torchvision_boxes(height, width, count)
    for boxes in (ours, reference):
        assert (boxes[:, :2] >= 0).all()
        assert (boxes[:, 0] + boxes[:, 2] <= height).all()
        assert (boxes[:, 1] + boxes[:, 3] <= width).all()
    area = ours[:, 2] * ours[:, 3] / (height * width)
    aspect = ours[:, 3] / ours[:, 2]
    assert area.min() >= SCALE[0] * 0.97 and area.max() <= SCALE[1]
    assert aspect.min() >= RATIO[0] * 0.97 and aspect.max() <= RATIO[1] * 1.03
    ref_area = reference[:, 2] * reference[:, 3] / (height * width)
    ref_aspect = reference[:, 3] / reference[:, 2]
    centre_y = ours[:, 0] + ours[:, 2] / 2
    ref_centre_y = reference[:, 0] + reference[:, 2] / 2
    for sample, ref in (
        (area, ref_area),
        (np.log(aspect), np.log(ref_aspect)),
        (centre_y, ref_centre_y),
    ):
        assert ks_2samp(sample, ref).pvalue > 1e-3


def test_crop_box_fallback_matches_torchvision():
    height, width = 64, 2000
    ours = sample_crop_box(height, width, (0.9, 1.0), RATIO, np.random.RandomState(0))
    reference = torchvision_boxes(height, width, 1, scale=(0.9, 1.0))[0]
    assert ours == tuple(int(v) for v in reference)


def test_draft_never_decodes_below_target(siim_images):
    rng = np.random.RandomState(1)
    reduced = 0
    for index in range(40):
        path = siim_images[index % len(siim_images)]
        crop, box, full_shape = decode_grey_region(
            path, lambda h, w: sample_crop_box(h, w, SCALE, RATIO, rng), 224
        )
        assert full_shape == (1024, 1024)
        expected = np.minimum(box[2:], 224)
        assert crop.shape[0] >= expected[0] and crop.shape[1] >= expected[1], box
        reduced += crop.shape[0] < box[2]
    assert reduced > 0, 'draft mode never reduced the decode'


def test_whole_image_uses_largest_reduction(siim_images):
    crop, _, _ = decode_grey_region(siim_images[0], lambda h, w: (0, 0, h, w), 224)
    assert crop.shape == (256, 256)


def reference_crop(path: Path, box: tuple[int, int, int, int]) -> np.ndarray:
    full = np.asarray(Image.open(path).convert('L'))
    top, left, height, width = box
    return cv2.resize(
        full[top : top + height, left : left + width],
        (224, 224),
        interpolation=cv2.INTER_AREA,
    ).astype(np.float64)


@pytest.mark.parametrize(
    'box',
    [
        (0, 0, 1024, 1024),
        (100, 200, 700, 600),
        (500, 300, 300, 260),
        (900, 900, 120, 110),
    ],
)
def test_output_close_to_full_decode(siim_images, box, monkeypatch):
    transform = TRANSFORMS.build(
        dict(type='FastXRayRandomResizedCrop', flip_prob=0, out_channels=1)
    )
    monkeypatch.setattr(transform, '_draw_box', lambda h, w: box)
    out = transform(dict(img_path=str(siim_images[3])))['img'].astype(np.float64)
    reference = reference_crop(siim_images[3], box)
    assert out.shape == (224, 224)
    assert np.abs(out - reference).mean() < 2.5
    assert np.corrcoef(out.ravel(), reference.ravel())[0, 1] > 0.99


def test_flip_and_pack_inputs(siim_images):
    kwargs = dict(type='FastXRayRandomResizedCrop', size=96)
    np.random.seed(7)
    plain = TRANSFORMS.build({**kwargs, 'flip_prob': 0})(
        dict(img_path=str(siim_images[0]))
    )
    np.random.seed(7)
    flipped = TRANSFORMS.build({**kwargs, 'flip_prob': 1})(
        dict(img_path=str(siim_images[0]))
    )
    assert plain['img'].shape == (96, 96, 3) and plain['img'].dtype == np.uint8
    assert not plain['flip'] and flipped['flip']
    np.testing.assert_array_equal(flipped['img'], plain['img'][:, ::-1])
    np.testing.assert_array_equal(plain['crop_bbox'], flipped['crop_bbox'])
    packed = PackInputs()(plain)
    assert packed['inputs'].shape == (3, 96, 96)
    assert packed['inputs'].dtype == torch.uint8


def test_png_8_and_16_bit_agree(siim_images, tmp_path, monkeypatch):
    grey = min_max_to_uint8(np.asarray(Image.open(siim_images[2]).convert('L')))
    cv2.imwrite(str(tmp_path / 'grey8.png'), grey)
    cv2.imwrite(str(tmp_path / 'grey16.png'), grey.astype(np.uint16) * 257)
    transform = TRANSFORMS.build(
        dict(type='FastXRayRandomResizedCrop', flip_prob=0, out_channels=1)
    )
    box = (50, 60, 500, 450)
    monkeypatch.setattr(transform, '_draw_box', lambda h, w: box)
    out8 = transform(dict(img_path=str(tmp_path / 'grey8.png')))['img']
    out16 = transform(dict(img_path=str(tmp_path / 'grey16.png')))['img']
    np.testing.assert_array_equal(out8, out16)
    full = grey.astype(np.float64)
    reference = cv2.resize(
        full[50:550, 60:510], (224, 224), interpolation=cv2.INTER_AREA
    )
    assert np.abs(out8 - reference).mean() < 1.0


def test_png_16_bit_uses_image_range(tmp_path):
    ramp = np.tile(np.linspace(1000, 5000, 256).astype(np.uint16), (256, 1))
    cv2.imwrite(str(tmp_path / 'ramp16.png'), ramp)
    transform = TRANSFORMS.build(
        dict(
            type='FastXRayRandomResizedCrop',
            size=256,
            scale=(1.0, 1.0),
            ratio=(1.0, 1.0),
            flip_prob=0,
            out_channels=1,
        )
    )
    out = transform(dict(img_path=str(tmp_path / 'ramp16.png')))['img']
    difference = out.astype(int) - min_max_to_uint8(ramp)
    assert np.abs(difference).max() <= 1 and (difference != 0).mean() < 0.01
    assert out.min() == 0 and out.max() == 255


def test_unreadable_file_is_a_bad_image(tmp_path):
    path = tmp_path / 'broken.jpg'
    path.write_bytes(b'not a jpeg')
    transform = TRANSFORMS.build(dict(type='FastXRayRandomResizedCrop'))
    with pytest.raises(BadXRayImageError, match='broken.jpg'):
        transform(dict(img_path=str(path)))


def test_other_formats_use_the_full_reader(tmp_path):
    path = tmp_path / 'image.bmp'
    grey = np.arange(64 * 48, dtype=np.uint32).reshape(64, 48) % 251
    cv2.imwrite(str(path), grey.astype(np.uint8))
    transform = TRANSFORMS.build(
        dict(
            type='FastXRayRandomResizedCrop',
            size=16,
            scale=(1.0, 1.0),
            ratio=(0.75, 0.75),
        )
    )
    out = transform(dict(img_path=str(path)))
    assert out['ori_shape'] == (64, 48) and out['img'].shape == (16, 16, 3)
    bad = tmp_path / 'broken.bmp'
    bad.write_bytes(b'not an image')
    with pytest.raises(BadXRayImageError, match='broken.bmp'):
        transform(dict(img_path=str(bad)))


def test_image_cache_round_trip(siim_images, shared_data, tmp_path):
    root = shared_data / 'siim_acr_sample'
    paths = siim_images[:3]
    assert build_image_cache(paths, root, tmp_path / 'cache', size=256) == 3
    cache = XRayImageCache(tmp_path / 'cache')
    assert len(cache) == 3
    for path in paths:
        stored = cache.get(path)
        assert stored.shape == fit_longer_side(1024, 1024, 256)
        reference = cv2.resize(
            np.asarray(Image.open(path).convert('L')),
            (256, 256),
            interpolation=cv2.INTER_AREA,
        )
        assert np.abs(stored.astype(float) - reference).mean() < 1.5
    transform = TRANSFORMS.build(
        dict(
            type='CachedXRayRandomResizedCrop',
            cache_dir=str(tmp_path / 'cache'),
            size=64,
        )
    )
    out = transform(dict(img_path=str(paths[1])))
    assert out['img'].shape == (64, 64, 3) and out['img'].dtype == np.uint8
    with pytest.raises(KeyError, match=siim_images[5].name):
        transform(dict(img_path=str(siim_images[5])))


def test_image_cache_keeps_aspect(siim_images, tmp_path):
    wide = np.asarray(Image.open(siim_images[0]).convert('L'))[:400]
    cv2.imwrite(str(tmp_path / 'wide.png'), wide)
    build_image_cache([tmp_path / 'wide.png'], tmp_path, tmp_path / 'cache', size=128)
    assert XRayImageCache(tmp_path / 'cache').get(tmp_path / 'wide.png').shape == (
        50,
        128,
    )


def test_image_cache_missing_dir(tmp_path):
    with pytest.raises(FileNotFoundError, match='build_image_cache'):
        XRayImageCache(tmp_path / 'absent')
