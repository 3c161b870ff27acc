"""SIIM-ACR RLE codec, mask union, splits and the preparation tool on real data."""

from __future__ import annotations

import csv
from pathlib import Path

import cv2
import numpy as np
import pytest

from cxr_plugins.datasets.siim_rle import (
    read_rle_csv,
    rle_decode,
    rle_encode,
    rle_statistics,
    union_mask,
)

pytestmark = pytest.mark.usefixtures('mmseg_scope')


def test_rle_decode_is_column_major_and_relative():
    # pixel 1, then 2 after the end of that run (pixel 4); pixels count down
    # the columns: 1 = (row 1, col 0), 4 = (row 1, col 1). Row-major order or
    # absolute offsets would give other masks.
    mask = rle_decode('1 1 2 1', height=3, width=2)
    expected = np.array([[0, 0], [1, 1], [0, 0]], dtype=np.uint8)
    np.testing.assert_array_equal(mask, expected)
    assert rle_encode(mask) == '1 1 2 1'
    assert rle_decode('-1', 3, 2).sum() == 0
    assert rle_encode(np.zeros((3, 2))) == '-1'


@pytest.mark.parametrize('seed', range(5))
def test_rle_round_trip_random_masks(seed):
    rng = np.random.default_rng(seed)
    mask = (rng.random((37, 53)) > 0.7).astype(np.uint8)
    mask[0, 0] = 1
    mask[-1, -1] = 1
    np.testing.assert_array_equal(rle_decode(rle_encode(mask), 37, 53), mask)


def test_rle_errors_name_the_problem():
    with pytest.raises(ValueError, match='odd number'):
        rle_decode('1 2 3', 4, 4)
    with pytest.raises(ValueError, match='leaves'):
        rle_decode('10 10', 4, 4)


def test_header_with_leading_space_and_instances(tmp_path):
    path = tmp_path / 'rle.csv'
    path.write_text('ImageId, EncodedPixels\na, -1\nb, 0 1\nb, 2 1\n')
    encodings = read_rle_csv(path)
    assert encodings == {'a': ['-1'], 'b': ['0 1', '2 1']}
    assert rle_statistics(encodings) == dict(rows=3, images=2, positive=1)
    np.testing.assert_array_equal(union_mask(encodings['b'], 2, 2), [[1, 1], [0, 0]])
    bad = tmp_path / 'bad.csv'
    bad.write_text('Id,Pixels\n')
    with pytest.raises(KeyError, match='ImageId'):
        read_rle_csv(bad)


def test_decoded_sample_equals_provided_masks(siim_sample: Path):
    encodings = read_rle_csv(siim_sample / 'train-rle.csv')
    assert rle_statistics(encodings) == dict(rows=21, images=14, positive=9)
    for image_id, rles in encodings.items():
        provided = cv2.imread(
            str(siim_sample / 'masks' / f'{image_id}.png'), cv2.IMREAD_UNCHANGED
        )
        decoded = union_mask(rles, *provided.shape)
        np.testing.assert_array_equal(decoded * 255, provided, err_msg=image_id)
        if len(rles) == 1:
            assert rle_encode(decoded) == rles[0]


def test_full_rle_file_counts(shared_data: Path):
    encodings = read_rle_csv(
        shared_data / 'labels/siim_acr/siim-pneumothorax-train-rle.csv.gz'
    )
    assert rle_statistics(encodings) == dict(rows=12954, images=12047, positive=2669)


def test_prepare_tool_writes_layout(siim_sample: Path, siim_prepared: Path):
    summary_counts = {'train': 14, 'val': 14}
    for split, count in summary_counts.items():
        assert len(list((siim_prepared / 'img_dir' / split).glob('*.png'))) == count
    with open(siim_sample / 'labels.csv', newline='') as handle:
        labels = {row['ImageId']: row for row in csv.DictReader(handle)}
    with open(siim_prepared / 'meta.csv', newline='') as handle:
        meta = [row for row in csv.DictReader(handle) if row['split'] == 'train']
    assert len(meta) == 14
    for row in meta:
        truth = labels[row['ImageId']]
        assert row['pneumothorax'] == truth['pneumothorax']
        assert row['n_instances'] == truth['n_instances']
        mask = cv2.imread(
            str(siim_prepared / 'ann_dir/train' / f'{row["ImageId"]}.png'),
            cv2.IMREAD_UNCHANGED,
        )
        provided = cv2.imread(str(siim_sample / truth['mask']), cv2.IMREAD_UNCHANGED)
        assert set(np.unique(mask)) <= {0, 1}
        assert int(mask.sum()) == int(truth['mask_pixels'])
        np.testing.assert_array_equal(mask * 255, provided)
