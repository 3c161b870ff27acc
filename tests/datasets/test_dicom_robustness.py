"""DICOM transfer syntaxes, VOI LUT functions, content detection, pixel bombs.

Encoders: RLE by pydicom itself, JPEG 2000 by pydicom via pylibjpeg-openjpeg,
JPEG-LS and JPEG Lossless (Process 14, predictor 6) by imagecodecs (tests
only). Decoding goes through the runtime requirements (pylibjpeg plug-ins), as
on a fresh install. JPEG Lossless SV1 (predictor 1) has no encoder here; its
decoder is the same pylibjpeg-libjpeg plug-in, checked to be available.
"""

from __future__ import annotations

import struct
import zlib

import numpy as np
import pytest
from cxr_test_utils import dicom_dataset
from PIL import Image

from cxr_plugins.datasets import CXRImageFolder
from cxr_plugins.datasets.transforms.grey_decoding import decode_grey_region
from cxr_plugins.datasets.transforms.loading import (
    BadXRayImageError,
    LoadXRayImage,
    is_dicom,
    read_dicom_grey,
)

RAMP = (np.arange(32 * 48).reshape(32, 48) * 2).astype(np.uint16)  # 12-bit


def dicom(path, pixels=RAMP, **elements):
    """The shared test DICOM (:func:`cxr_test_utils.dicom_dataset`) with
    ``elements`` set, not yet written."""
    ds = dicom_dataset(pixels)
    for key, value in elements.items():
        setattr(ds, key, value)
    return ds


def _encapsulate(ds, uid, frame: bytes):
    from pydicom.encaps import encapsulate

    ds.file_meta.TransferSyntaxUID = uid
    ds.PixelData = encapsulate([frame])
    ds['PixelData'].VR = 'OB'


@pytest.mark.parametrize('syntax', ['rle', 'jpeg2000', 'jpegls', 'jpeg_lossless'])
def test_compressed_transfer_syntaxes_load_losslessly(tmp_path, syntax):
    import pydicom.uid as uids

    ds = dicom(tmp_path / 'x.dcm')
    if syntax == 'rle':
        ds.compress(uids.RLELossless)
    elif syntax == 'jpeg2000':
        ds.compress(uids.JPEG2000Lossless)
    else:
        codecs = pytest.importorskip('imagecodecs')
        if syntax == 'jpegls':
            _encapsulate(ds, uids.JPEGLSLossless, codecs.jpegls_encode(RAMP))
        else:
            frame = codecs.ljpeg_encode(RAMP, bitspersample=12)
            _encapsulate(ds, uids.JPEGLossless, frame)
    path = tmp_path / f'{syntax}.dcm'
    ds.save_as(path, enforce_file_format=True)
    grey = read_dicom_grey(str(path))
    expected = np.rint((RAMP - RAMP.min()) * 255.0 / (RAMP.max() - RAMP.min()))
    np.testing.assert_array_equal(grey, expected.astype(np.uint8))


def test_decoders_come_from_the_runtime_requirements():
    from pydicom.pixels.decoders import (
        JPEGLosslessSV1Decoder,
        JPEGLSLosslessDecoder,
    )

    for decoder in (JPEGLosslessSV1Decoder, JPEGLSLosslessDecoder):
        assert 'pylibjpeg' in decoder.available_plugins, decoder.UID.name


@pytest.mark.parametrize('function', ['LINEAR', 'LINEAR_EXACT', 'SIGMOID'])
def test_voi_window_follows_voi_lut_function(tmp_path, function):
    """pydicom's apply_voi_lut does the window (SIGMOID was off by up to 30
    grey levels with the hand-written LINEAR window)."""
    path = tmp_path / 'w.dcm'
    dicom(path, WindowCenter=2048, WindowWidth=1024, VOILUTFunction=function).save_as(
        path, enforce_file_format=True
    )
    grey = read_dicom_grey(str(path)).astype(float)
    centre = 2048 - 0.5 if function == 'LINEAR' else 2048
    width = 1024 - 1 if function == 'LINEAR' else 1024
    x = RAMP.astype(float)
    if function == 'SIGMOID':
        expected = 255 / (1 + np.exp(-4 * (x - 2048) / 1024))
    else:
        expected = np.clip(((x - centre) / width + 0.5) * 255, 0, 255)
    assert np.abs(grey - expected).max() <= 1.0


def test_dicom_is_detected_by_content(tmp_path):
    path = tmp_path / 'IM0001'
    dicom(path).save_as(path, enforce_file_format=True)
    assert is_dicom(path)
    assert LoadXRayImage()(dict(img_path=str(path)))['img'].shape == (32, 48, 3)
    png = tmp_path / 'a.png'
    Image.fromarray(np.zeros((4, 4), np.uint8)).save(png)
    assert not is_dicom(png)


def bomb_png(path, width=60000, height=60000):
    """A tiny PNG whose IHDR claims ``width x height`` (valid CRC)."""
    ihdr = struct.pack('>IIBBBBB', width, height, 8, 0, 0, 0, 0)
    chunk = b'IHDR' + ihdr
    data = zlib.compress(b'\x00' * 10)
    idat = b'IDAT' + data
    path.write_bytes(
        b'\x89PNG\r\n\x1a\n'
        + struct.pack('>I', len(ihdr))
        + chunk
        + struct.pack('>I', zlib.crc32(chunk))
        + struct.pack('>I', len(data))
        + idat
        + struct.pack('>I', zlib.crc32(idat))
        + b'\x00\x00\x00\x00IEND\xaeB`\x82'
    )
    return path


def test_pixel_bombs_are_rejected_naming_the_file(tmp_path):
    bomb = bomb_png(tmp_path / 'bomb.png')
    with pytest.raises(BadXRayImageError, match='too many pixels') as info:
        LoadXRayImage()(dict(img_path=str(bomb)))
    assert info.value.path == str(bomb)
    with pytest.raises(BadXRayImageError, match='bomb.png.*too many pixels'):
        decode_grey_region(bomb, lambda h, w: (0, 0, h, w), 64)
    dcm = tmp_path / 'huge.dcm'
    dicom(dcm, Rows=60000, Columns=60000).save_as(dcm, enforce_file_format=True)
    with pytest.raises(BadXRayImageError, match='huge.dcm.*above the limit'):
        read_dicom_grey(str(dcm))
    small = bomb_png(tmp_path / 'small.png', 100, 100)
    with pytest.raises(BadXRayImageError, match='above the limit of 9,999'):
        LoadXRayImage(max_pixels=9999)(dict(img_path=str(small)))


def test_skip_bad_images_counts_a_bomb(tmp_path):
    for name in ('normal', 'pneumonia'):
        (tmp_path / 'train' / name).mkdir(parents=True)
        Image.fromarray(np.full((8, 8), 100, np.uint8)).save(
            tmp_path / 'train' / name / 'ok.png'
        )
    bomb_png(tmp_path / 'train' / 'normal' / 'bomb.png')
    dataset = CXRImageFolder(
        data_root=str(tmp_path),
        split='train',
        pipeline=[dict(type='LoadXRayImage')],
        skip_bad_images=True,
    )
    index = [dataset.get_data_info(i)['img_path'] for i in range(3)].index(
        str(tmp_path / 'train' / 'normal' / 'bomb.png')
    )
    dataset[index]
    bad = dataset.bad_images()
    # the random replacement may draw the bomb again: every record is it
    assert bad and all(p.endswith('bomb.png') and 'bomb' in r for p, r in bad)
    dataset.clear_bad_images()
