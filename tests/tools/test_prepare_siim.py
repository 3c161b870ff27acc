"""prepare_siim.py: challenge-style DICOMs, and split lists naming absent ids."""

from __future__ import annotations

import csv

import cv2
import numpy as np
import pytest
from cxr_test_utils import load_tool, write_dicom

pytestmark = pytest.mark.usefixtures('mmseg_scope')


def test_prepare_siim_from_dicoms(siim_sample, tmp_path):
    with open(siim_sample / 'labels.csv', newline='') as handle:
        rows = list(csv.DictReader(handle))[:3]
    images = tmp_path / 'dicom-images-train'
    images.mkdir()
    greys = {}
    for index, row in enumerate(rows):
        grey = cv2.imread(str(siim_sample / row['image']), cv2.IMREAD_GRAYSCALE)
        grey[0, 0], grey[0, 1] = 0, 255  # full range: min-max scaling is identity
        greys[row['ImageId']] = grey
        stored = grey.astype(np.uint16) * 16
        photometric = 'MONOCHROME1' if index == 0 else 'MONOCHROME2'
        if photometric == 'MONOCHROME1':
            stored = 4080 - stored
        write_dicom(
            images / f'{row["ImageId"]}.dcm',
            stored,
            photometric,
            patient_id=f'patient-{index}',
        )
    rle_csv = tmp_path / 'train-rle.csv'
    with open(siim_sample / 'train-rle.csv', newline='') as source:
        reader = csv.reader(source)
        header = next(reader)
        wanted = [row for row in reader if row[0] in greys]
    with open(rle_csv, 'w', newline='') as target:
        csv.writer(target).writerows([header, *wanted])

    out = tmp_path / 'prepared'
    load_tool('tools/data/prepare_siim.py').main(
        [
            *('--rle-csv', str(rle_csv), '--images', str(images)),
            *('--out-dir', str(out), '--allow-empty-split'),
        ]
    )

    with open(out / 'meta.csv', newline='') as handle:
        meta = {row['ImageId']: row for row in csv.DictReader(handle)}
    assert sorted(meta) == sorted(greys)
    for index, row in enumerate(rows):
        image_id = row['ImageId']
        assert meta[image_id]['patient_id'] == f'patient-{index}'
        split = meta[image_id]['split']
        image = cv2.imread(
            str(out / 'img_dir' / split / f'{image_id}.png'), cv2.IMREAD_GRAYSCALE
        )
        assert np.abs(image.astype(int) - greys[image_id]).max() <= 1
        mask = cv2.imread(
            str(out / 'ann_dir' / split / f'{image_id}.png'), cv2.IMREAD_GRAYSCALE
        )
        expected = cv2.imread(str(siim_sample / row['mask']), cv2.IMREAD_GRAYSCALE)
        np.testing.assert_array_equal(mask, (expected > 0).astype(np.uint8))


def test_split_list_naming_an_absent_image_is_an_error(siim_sample, tmp_path):
    listed = tmp_path / 'train.txt'
    listed.write_text('1.2.276.0.7230010.3.1.4.NOT_IN_THE_RLE_FILE\n')
    argv = [
        '--rle-csv',
        str(siim_sample / 'train-rle.csv'),
        '--images',
        str(siim_sample / 'images'),
        '--out-dir',
        str(tmp_path / 'out'),
        '--split-list',
        f'train={listed}',
    ]
    tool = load_tool('tools/data/prepare_siim.py')
    with pytest.raises(SystemExit, match='NOT_IN_THE_RLE_FILE'):
        tool.main(argv)
    summary = tool.main([*argv, '--skip-missing-images', '--allow-empty-split'])
    assert summary['left_out_of_split_lists'] == {'train': 1}
    assert summary['splits'] == {'train': 0}
