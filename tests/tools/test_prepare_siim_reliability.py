"""prepare_siim.py refuses bad input before anything appears at ``--out-dir``.

Each test provokes one fault of issue 18 on a tiny synthetic SIIM folder
(16x16 PNGs, ``--rle-size 16 16``) and checks the message names the file,
line and ImageId where it can, and that neither the output folder nor a
staging folder is left behind.
"""

from __future__ import annotations

import numpy as np
import pytest
from cxr_test_utils import load_tool, write_dicom
from PIL import Image

from cxr_plugins.datasets.siim_rle import rle_encode
from cxr_plugins.datasets.transforms.loading import (
    BadXRayImageError,
    min_max_to_uint8,
)

SIZE = 16
IDS = [f'1.2.276.0.{index}' for index in range(6)]


@pytest.fixture
def tool():
    return load_tool('tools/data/prepare_siim.py')


def _mask(index: int) -> np.ndarray:
    mask = np.zeros((SIZE, SIZE), dtype=np.uint8)
    mask[2 + index : 6 + index, 3:7] = 1
    return mask


@pytest.fixture
def siim_folder(tmp_path):
    """Six 16x16 grey PNGs, even ImageIds positive, and their RLE CSV."""
    images = tmp_path / 'images'
    images.mkdir()
    rows = ['ImageId, EncodedPixels']
    rng = np.random.default_rng(0)
    for index, image_id in enumerate(IDS):
        pixels = rng.integers(0, 256, (SIZE, SIZE), dtype=np.uint8)
        Image.fromarray(pixels).save(images / f'{image_id}.png')
        rle = rle_encode(_mask(index)) if index % 2 == 0 else '-1'
        rows.append(f'{image_id}, {rle}')
    (tmp_path / 'rle.csv').write_text('\n'.join(rows) + '\n')
    return tmp_path


def _argv(root, *extra: str) -> list[str]:
    return [
        *('--rle-csv', str(root / 'rle.csv'), '--images', str(root / 'images')),
        *('--out-dir', str(root / 'out'), '--rle-size', str(SIZE), str(SIZE)),
        *('--ratios', '0.34', '0.33', '0.33'),
        *extra,
    ]


def _assert_nothing_written(root) -> None:
    assert not (root / 'out').exists()
    assert not list(root.glob('.out.*')), 'staging folder left behind'


def _replace_rle_row(root, image_id: str, rle: str) -> int:
    lines = (root / 'rle.csv').read_text().splitlines()
    index = next(i for i, line in enumerate(lines) if line.startswith(image_id))
    lines[index] = f'{image_id}, {rle}'
    (root / 'rle.csv').write_text('\n'.join(lines) + '\n')
    return index + 1


def test_a_good_folder_is_written_whole(tool, siim_folder):
    summary = tool.main(_argv(siim_folder))
    assert sum(summary['splits'].values()) == 6
    assert all(summary['splits'].values())
    out = siim_folder / 'out'
    written = sorted(p.name for p in (out / 'ann_dir').rglob('*.png'))
    assert written == sorted(f'{i}.png' for i in IDS)
    assert (out / 'summary.json').is_file() and (out / 'meta.csv').is_file()
    assert not list(siim_folder.glob('.out.*'))


@pytest.mark.parametrize(
    ('rle', 'expected'),
    [
        ('3 abc', "RLE value 2 is 'abc'"),
        ('3 4 5', 'odd number of values (3)'),
        ('-5 3', "RLE value 1 is '-5'"),
        ('200 100', 'past the 16x16 image'),
    ],
)
def test_bad_rle_token_names_file_line_and_image_before_writing(
    tool, siim_folder, rle, expected
):
    line = _replace_rle_row(siim_folder, IDS[4], rle)
    with pytest.raises(SystemExit) as error:
        tool.main(_argv(siim_folder))
    message = str(error.value)
    assert f'rle.csv, line {line}, ImageId {IDS[4]}' in message
    assert expected in message
    _assert_nothing_written(siim_folder)


def test_empty_csv_is_a_clear_error(tool, siim_folder):
    (siim_folder / 'rle.csv').write_text('')
    with pytest.raises(SystemExit, match='rle.csv: file is empty'):
        tool.main(_argv(siim_folder))
    _assert_nothing_written(siim_folder)


def test_sixteen_bit_png_is_scaled_like_the_suite_reader(tool, siim_folder):
    twelve_bit = (np.arange(SIZE * SIZE).reshape(SIZE, SIZE) * 16).astype(np.uint16)
    path = siim_folder / 'images' / f'{IDS[1]}.png'
    Image.fromarray(twelve_bit).save(path)
    tool.main(_argv(siim_folder))
    written = next((siim_folder / 'out' / 'img_dir').rglob(f'{IDS[1]}.png'))
    grey = np.asarray(Image.open(written))
    np.testing.assert_array_equal(grey, min_max_to_uint8(twelve_bit))
    assert grey.max() == 255  # cv2 IMREAD_GRAYSCALE gave 0-15


def test_truncated_jpeg_is_rejected_and_nothing_written(tool, siim_folder):
    path = siim_folder / 'images' / f'{IDS[3]}.png'
    jpeg = path.with_suffix('.jpg')
    Image.open(path).save(jpeg, quality=95)
    path.unlink()
    jpeg.write_bytes(jpeg.read_bytes()[: jpeg.stat().st_size // 2])
    with pytest.raises(BadXRayImageError, match=f'{IDS[3]}.jpg'):
        tool.main(_argv(siim_folder))
    _assert_nothing_written(siim_folder)


def test_one_pixel_image_is_rejected(tool, siim_folder):
    Image.fromarray(np.zeros((1, 1), np.uint8)).save(
        siim_folder / 'images' / f'{IDS[2]}.png'
    )
    with pytest.raises(BadXRayImageError, match='1x1, below min_size'):
        tool.main(_argv(siim_folder))
    _assert_nothing_written(siim_folder)


def test_image_of_another_size_than_the_rle_is_rejected(tool, siim_folder):
    """A 1024-px RLE on a 512-px image: here a 16-px RLE on an 8-px image."""
    small = np.zeros((SIZE // 2, SIZE // 2), np.uint8)
    small[0, 0] = 255
    Image.fromarray(small).save(siim_folder / 'images' / f'{IDS[0]}.png')
    with pytest.raises(ValueError, match='8x8 but the RLE masks are encoded for 16x16'):
        tool.main(_argv(siim_folder))
    _assert_nothing_written(siim_folder)


def test_non_empty_out_dir_is_refused_and_overwrite_replaces_it_whole(
    tool, siim_folder
):
    out = siim_folder / 'out'
    (out / 'splits').mkdir(parents=True)
    (out / 'splits' / 'test.txt').write_text('stale-id\n')
    (out / 'img_dir' / 'train').mkdir(parents=True)
    (out / 'img_dir' / 'train' / 'stale-id.png').write_bytes(b'old')
    with pytest.raises(SystemExit, match='not empty; pass --overwrite'):
        tool.main(_argv(siim_folder, '--seed', '3'))
    assert (out / 'splits' / 'test.txt').read_text() == 'stale-id\n'

    tool.main(_argv(siim_folder, '--seed', '3', '--overwrite'))
    assert not (out / 'img_dir' / 'train' / 'stale-id.png').exists()
    listed = {
        line
        for name in ('train', 'val', 'test')
        for line in (out / 'splits' / f'{name}.txt').read_text().split()
    }
    assert listed == set(IDS)
    assert not list(siim_folder.glob('.out.*'))


def test_overwrite_never_deletes_the_inputs(tool, siim_folder):
    argv = _argv(siim_folder, '--overwrite')
    argv[argv.index('--out-dir') + 1] = str(siim_folder)
    with pytest.raises(SystemExit, match='holds the input'):
        tool.main(argv)
    assert (siim_folder / 'rle.csv').is_file()


def test_empty_split_is_an_error_unless_allowed(tool, siim_folder, capsys):
    argv = _argv(siim_folder)
    ratios = argv.index('--ratios')
    argv[ratios + 1 : ratios + 4] = ['0.5', '0.5', '0.0']
    with pytest.raises(SystemExit, match=r"\['test'\] would hold no image"):
        tool.main(argv)
    _assert_nothing_written(siim_folder)
    summary = tool.main([*argv, '--allow-empty-split'])
    assert summary['splits']['test'] == 0
    assert "split(s) ['test'] written empty" in capsys.readouterr().out


@pytest.mark.parametrize('name', ['../../../x', 'a/b', '..', '.hidden', ''])
def test_split_list_name_cannot_leave_out_dir(tool, siim_folder, name):
    listed = siim_folder / 'list.txt'
    listed.write_text('\n'.join(IDS) + '\n')
    with pytest.raises(SystemExit, match='split name|NAME=FILE'):
        tool.main(_argv(siim_folder, '--split-list', f'{name}={listed}'))
    _assert_nothing_written(siim_folder)
    assert sorted(p.name for p in siim_folder.iterdir()) == [
        'images',
        'list.txt',
        'rle.csv',
    ]


def test_dicom_without_patient_id_names_the_file(tool, siim_folder):
    path = siim_folder / 'images' / f'{IDS[5]}.png'
    path.unlink()
    dicom = write_dicom(
        path.with_suffix('.dcm'), np.full((SIZE, SIZE), 100, np.uint16), patient_id=''
    )
    with pytest.raises(SystemExit, match=f'{dicom.name}: DICOM has no PatientID'):
        tool.main(_argv(siim_folder))
    _assert_nothing_written(siim_folder)


def test_failed_write_names_the_file_and_leaves_nothing(tool, siim_folder, monkeypatch):
    """A full disk: ``cv2.imwrite`` returns False for the fourth file."""
    real_imwrite = tool.cv2.imwrite
    calls = []

    def imwrite_until_full(path, image):
        calls.append(path)
        return False if len(calls) == 4 else real_imwrite(path, image)

    monkeypatch.setattr(tool.cv2, 'imwrite', imwrite_until_full)
    with pytest.raises(OSError, match='cannot write the PNG') as error:
        tool.main(_argv(siim_folder))
    assert calls[3] in str(error.value)
    _assert_nothing_written(siim_folder)
