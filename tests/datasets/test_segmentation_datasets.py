"""Positive/negative sampler counts and the CXR segmentation datasets."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest
import torch

import cxr_plugins.seg  # noqa: F401  (registration)
from cxr_plugins.datasets.samplers import PositiveNegativeSampler
from cxr_plugins.datasets.segmentation import (
    CXRBinaryMaskDataset,
    SIIMPneumothoraxDataset,
)

pytestmark = pytest.mark.usefixtures('mmseg_scope')


class _FlagDataset:
    def __init__(self, flags):
        self.flags = flags

    def __len__(self):
        return len(self.flags)

    def get_data_info(self, index):
        return dict(pneumothorax=self.flags[index])


def test_sampler_counts_and_epochs():
    flags = [True] * 20 + [False] * 200
    sampler = PositiveNegativeSampler(_FlagDataset(flags), negative_ratio=0.4, seed=3)
    first = list(sampler)
    assert len(first) == len(sampler) == 28
    assert sum(flags[i] for i in first) == 20 and len(set(first)) == 28
    sampler.set_epoch(1)
    second = list(sampler)
    assert {i for i in second if flags[i]} == set(range(20))
    assert {i for i in first if not flags[i]} != {i for i in second if not flags[i]}
    sampler.set_epoch(0)
    assert list(sampler) == first


def test_sampler_caps_negatives_and_splits_ranks(monkeypatch):
    flags = [True] * 10 + [False] * 2
    sampler = PositiveNegativeSampler(_FlagDataset(flags), negative_ratio=0.4, seed=0)
    assert len(sampler) == 12
    monkeypatch.setattr('cxr_plugins.datasets.samplers.get_dist_info', lambda: (1, 2))
    flags = [True] * 5 + [False] * 50
    rank1 = PositiveNegativeSampler(_FlagDataset(flags), seed=0)
    assert len(rank1) == 4 and len(list(rank1)) == 4  # 5 + 2 = 7 -> 8 / 2


def test_siim_dataset_flags(siim_prepared: Path):
    dataset = SIIMPneumothoraxDataset(
        data_root=str(siim_prepared),
        meta_file='meta.csv',
        data_prefix=dict(img_path='img_dir/train', seg_map_path='ann_dir/train'),
    )
    from_masks = SIIMPneumothoraxDataset(
        data_root=str(siim_prepared),
        data_prefix=dict(img_path='img_dir/train', seg_map_path='ann_dir/train'),
    )
    flags = [dataset.get_data_info(i)['pneumothorax'] for i in range(len(dataset))]
    assert len(dataset) == 14 and sum(flags) == 9
    assert flags == [
        from_masks.get_data_info(i)['pneumothorax'] for i in range(len(from_masks))
    ]
    indices = list(PositiveNegativeSampler(dataset, negative_ratio=0.4, seed=0))
    assert len(indices) == 9 + 4


def test_lungs_cc_by_patient_split(demo_dir: Path):
    root = demo_dir / 'lungs_cc_by'
    splits = {
        split: CXRBinaryMaskDataset(
            data_root=str(root), index_file='index.csv', split=split, lazy_init=False
        )
        for split in ('train', 'val', 'test')
    }
    everything = CXRBinaryMaskDataset(data_root=str(root), index_file='index.csv')
    assert len(everything) == 90
    assert sum(len(d) for d in splits.values()) == 90
    patients = {
        split: {d.get_data_info(i)['patient_id'] for i in range(len(d))}
        for split, d in splits.items()
    }
    assert not patients['train'] & patients['val']
    assert not patients['train'] & patients['test']
    assert len(splits['train']) > 50 and len(splits['val']) > 5
    info = splits['val'].get_data_info(0)
    mask = cv2.imread(info['seg_map_path'], cv2.IMREAD_UNCHANGED)
    assert set(np.unique(mask)) <= {0, 255}


def test_binary_mask_loading_and_covid_masks(demo_dir: Path, shared_data: Path):
    dataset = CXRBinaryMaskDataset(
        data_root=str(demo_dir / 'lungs_cc_by'),
        index_file='index.csv',
        pipeline=[
            dict(type='LoadImageFromFile'),
            dict(type='LoadBinaryMask'),
            dict(type='PackSegInputs'),
        ],
    )
    packed = dataset[0]
    labels = torch.unique(packed['data_samples'].gt_sem_seg.data)
    assert labels.tolist() == [0, 1]
    covid = CXRBinaryMaskDataset(
        data_root=str(shared_data / 'covid_cxr'),
        index_file='metadata.csv',
        image_column='filename',
        mask_column=None,
        img_dir='images',
        img_suffix='.jpg',
        mask_dir='masks/lungs_v7labs',
    )
    assert len(covid) == 427
    assert all(
        Path(covid.get_data_info(i)['img_path']).is_file() for i in range(0, 427, 40)
    )
