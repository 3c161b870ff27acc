"""LoadXRayImage on real radiographs and on every kind of broken input."""

import numpy as np
import pytest
from PIL import Image

from cxr_plugins.datasets.transforms import BadXRayImageError, LoadXRayImage
from cxr_plugins.datasets.transforms.loading import min_max_to_uint8


def load(path, **kwargs) -> dict:
    return LoadXRayImage(**kwargs)(dict(img_path=str(path)))


def test_real_demo_png_and_jpeg(demo_dir):
    png = sorted((demo_dir / 'nih14_64px' / 'images').glob('*.png'))[0]
    results = load(png)
    assert results['img'].shape == (64, 64, 3)
    assert results['img'].dtype == np.uint8
    assert results['img_shape'] == results['ori_shape'] == (64, 64)
    expected = np.asarray(Image.open(png).convert('L'))
    np.testing.assert_array_equal(results['img'][..., 0], expected)
    np.testing.assert_array_equal(results['img'][..., 0], results['img'][..., 2])
    jpg = sorted((demo_dir / 'lungs_cc_by' / 'images').glob('*.jpg'))[0]
    grey = load(jpg, to_rgb=False)['img']
    assert grey.ndim == 2 and grey.dtype == np.uint8 and grey.std() > 10


def test_modes_become_one_grey_channel(write_image, grey8):
    rgb = np.stack([grey8] * 3, axis=-1)
    rgba = np.concatenate([rgb, np.full_like(grey8, 7)[..., None]], axis=-1)
    paths = {
        'L': write_image('l.png', grey8),
        'RGB': write_image('rgb.png', rgb),
        'RGBA': write_image('rgba.png', rgba),
        'P': write_image(
            'p.png',
            Image.fromarray(rgb).convert(
                'P', palette=Image.Palette.ADAPTIVE, colors=256
            ),
        ),
    }
    for mode, path in paths.items():
        assert Image.open(path).mode == mode
        img = load(path, to_rgb=False)['img']
        assert img.shape == grey8.shape, mode
        np.testing.assert_array_equal(img, grey8, err_msg=mode)


def test_sixteen_bit_png_min_max(write_image, gradient12):
    path = write_image('ramp16.png', gradient12 + 100)
    assert Image.open(path).mode.startswith('I')
    img = load(path, to_rgb=False)['img']
    assert img.min() == 0 and img.max() == 255
    np.testing.assert_array_equal(img[0], np.rint(np.linspace(0, 255, 32)))


def test_intensity_maps():
    np.testing.assert_array_equal(min_max_to_uint8(np.array([5, 5])), [0, 0])


def test_dicom_window_and_monochrome1(tmp_path, dicom_writer, gradient12):
    mono2 = dicom_writer(tmp_path / 'a.dcm', gradient12)
    img = load(mono2)['img']
    assert img.shape == (16, 32, 3)
    assert img[0, 0, 0] == 0 and img[0, -1, 0] == 255
    assert np.all(np.diff(img[0, :, 0].astype(int)) >= 0)
    mono1 = dicom_writer(tmp_path / 'b.dcm', gradient12, photometric='MONOCHROME1')
    np.testing.assert_array_equal(load(mono1)['img'], 255 - img)
    windowed = dicom_writer(tmp_path / 'c.dcm', gradient12, window=(2048, 1024))
    row = load(windowed, to_rgb=False)['img'][0]
    below, above = gradient12[0] <= 1535, gradient12[0] > 2560
    assert (row[below] == 0).all() and (row[above] == 255).all()
    assert 0 < row[~below & ~above].mean() < 255


@pytest.mark.parametrize(
    'case', ['missing', 'empty', 'truncated', 'tiny', 'text', 'no_pixels']
)
def test_bad_files_name_file_and_reason(
    case, tmp_path, write_image, grey8, dicom_writer
):
    path = tmp_path / f'{case}.jpg'
    reason = {
        'missing': 'does not exist',
        'empty': '0 bytes',
        'truncated': 'truncated',
        'tiny': 'below min_size',
        'text': 'not a recognised image',
        'no_pixels': 'no PixelData',
    }[case]
    if case == 'empty':
        path.write_bytes(b'')
    elif case == 'truncated':
        full = write_image('full.jpg', np.tile(grey8, (8, 8)))
        path.write_bytes(full.read_bytes()[:600])
    elif case == 'tiny':
        path = write_image('tiny.png', np.zeros((1, 1), np.uint8))
    elif case == 'text':
        path.write_text('not an image')
    elif case == 'no_pixels':
        path = dicom_writer(tmp_path / 'no_pixels.dcm', None)
    with pytest.raises(BadXRayImageError, match=reason) as info:
        load(path)
    assert info.value.path == str(path)
    assert str(path) in str(info.value)


def test_min_size_is_configurable(write_image):
    path = write_image('small.png', np.full((3, 3), 9, np.uint8))
    assert load(path, min_size=3)['img'].shape == (3, 3, 3)
    with pytest.raises(BadXRayImageError, match='3x3'):
        load(path, min_size=4)


def test_jpeg_baseline_dicom(tmp_path):
    """RSNA's DICOMs carry JPEG-baseline pixel data: pydicom decodes it via Pillow."""
    import io

    from pydicom.dataset import Dataset, FileMetaDataset
    from pydicom.encaps import encapsulate
    from pydicom.uid import JPEGBaseline8Bit, SecondaryCaptureImageStorage, generate_uid

    ramp = np.tile(np.linspace(0, 255, 64).astype(np.uint8), (32, 1))
    jpeg = io.BytesIO()
    Image.fromarray(ramp).save(jpeg, format='JPEG', quality=95)
    meta = FileMetaDataset()
    meta.MediaStorageSOPClassUID = SecondaryCaptureImageStorage
    meta.MediaStorageSOPInstanceUID = generate_uid()
    meta.TransferSyntaxUID = JPEGBaseline8Bit
    ds = Dataset()
    ds.file_meta = meta
    ds.SOPClassUID = SecondaryCaptureImageStorage
    ds.SOPInstanceUID = meta.MediaStorageSOPInstanceUID
    ds.SamplesPerPixel, ds.PhotometricInterpretation = 1, 'MONOCHROME2'
    ds.BitsAllocated, ds.BitsStored, ds.HighBit, ds.PixelRepresentation = 8, 8, 7, 0
    ds.Rows, ds.Columns = ramp.shape
    ds.PixelData = encapsulate([jpeg.getvalue()])
    ds['PixelData'].VR = 'OB'
    ds.save_as(tmp_path / 'rsna.dcm', enforce_file_format=True)
    img = load(tmp_path / 'rsna.dcm', to_rgb=False)['img']
    assert img.shape == ramp.shape
    assert np.abs(img.astype(int) - ramp).max() <= 3
