"""Training pipelines decode through the fast path with the seeds' augmentation."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from mmengine.config import Config
from mmpretrain.registry import TRANSFORMS

import cxr_plugins  # noqa: F401  (registers the transforms)

pytestmark = pytest.mark.usefixtures('mmpretrain_scope')

MRM_448 = (
    'configs/pretrain/mrm/'
    'mrm_vit-base-p16_dec768d4b_4xb32-accum2-200e_mimic-cxr-448px.py'
)
# Seed facts (../shared/reference): output side and crop-area range of each recipe.
SEED_CROPS = {
    'configs/_base_/datasets/cls_common_224px.py': (224, (0.08, 1.0)),
    'configs/_base_/datasets/cls_nih-cxr14_224px.py': (224, (0.08, 1.0)),
    'configs/_base_/datasets/cls_covidx9a_480px.py': (480, (0.08, 1.0)),
    'configs/_base_/datasets/cls_cxr-imagefolder_224px.py': (224, (0.2, 1.0)),
    'configs/_base_/datasets/cls_mimic-cxr-abnormal_224px.py': (224, (0.08, 1.0)),
    'configs/_base_/datasets/cls_nih14-demo_64px.py': (64, (0.5, 1.0)),
    'configs/_base_/datasets/pretrain_nih-chexpert_224px.py': (224, (0.5, 1.0)),
    'configs/_base_/datasets/pretrain_nih14-demo_64px.py': (64, (0.5, 1.0)),
    MRM_448: (448, (0.2, 1.0)),
}
# MSMAE's crop records the box for its attention-driven masking (it keeps its
# own); segmentation crops image and mask together (mmseg transforms).
OWN_CROP = ('msmae', 'seg_', 'unet_', 'upernet_')


def _train_pipelines(dataset: dict) -> list[list[dict]]:
    if 'datasets' in dataset:
        return [p for sub in dataset['datasets'] for p in _train_pipelines(sub)]
    if 'dataset' in dataset:
        return _train_pipelines(dataset['dataset'])
    return [dataset.get('pipeline', [])]


def _image_configs(repo_root: Path) -> list[Path]:
    found = []
    for path in sorted((repo_root / 'configs').rglob('*.py')):
        if 'segmentation' in path.parts or path.name.startswith(OWN_CROP):
            continue
        if '/_base_/' in str(path) and 'datasets' not in path.parts:
            continue
        found.append(path)
    return found


def test_every_training_pipeline_uses_the_fast_crop(repo_root):
    checked = 0
    for path in _image_configs(repo_root):
        cfg = Config.fromfile(path)
        if 'train_dataloader' not in cfg:
            continue
        if cfg.train_dataloader.dataset.get('type') == 'MedMNIST':
            continue  # decoded arrays in memory (PneumoniaMNIST): no file to decode
        for pipeline in _train_pipelines(cfg.train_dataloader.to_dict()):
            types = [step['type'] for step in pipeline]
            assert types and types[0] == 'FastXRayRandomResizedCrop', (path, types)
            for slow in ('LoadXRayImage', 'RandomResizedCrop', 'RandomFlip'):
                assert slow not in types, (path, types)
            crop = pipeline[0]
            # the seeds' kernel: bicubic (timm/MAE), bilinear for MRM's recipes
            seed_kernel = 'bilinear' if '_mrm-pre_' in path.name else 'bicubic'
            assert crop.get('interpolation') == seed_kernel, path
            assert crop.get('flip_prob') == 0.5, path
            checked += 1
        for key in ('val_dataloader', 'test_dataloader'):
            if cfg.get(key):
                for pipeline in _train_pipelines(cfg[key].to_dict()):
                    assert pipeline[0]['type'] == 'LoadXRayImage', (path, key)
    assert checked >= 30


@pytest.mark.parametrize('name', sorted(SEED_CROPS))
def test_seed_crop_semantics(name, repo_root):
    size, scale = SEED_CROPS[name]
    cfg = Config.fromfile(repo_root / name)
    crop = TRANSFORMS.build(_train_pipelines(cfg.train_dataloader.to_dict())[0][0])
    assert crop.size == size
    assert crop.scale == scale
    assert crop.ratio == pytest.approx((3 / 4, 4 / 3))
    assert crop.out_channels == 3


def test_same_boxes_and_close_pixels_as_seed_pipeline(shared_data):
    """Seeded alike, ours draws mmpretrain's boxes; pixels differ by resampling only."""
    path = sorted((shared_data / 'siim_acr_sample' / 'images').glob('*.jpg'))[0]
    seed = [
        TRANSFORMS.build(dict(type='LoadXRayImage', to_rgb=True)),
        TRANSFORMS.build(
            dict(
                type='RandomResizedCrop',
                scale=224,
                crop_ratio_range=(0.08, 1.0),
                backend='pillow',
                interpolation='bicubic',
            )
        ),
    ]
    fast = TRANSFORMS.build(
        dict(type='FastXRayRandomResizedCrop', size=224, flip_prob=0.0)
    )
    differences = []
    for draw in range(20):
        results = dict(img_path=str(path))
        np.random.seed(draw)
        for step in seed:
            results = step(results)
        np.random.seed(draw)
        ours = fast(dict(img_path=str(path)))
        assert ours['img'].shape == results['img'].shape == (224, 224, 3)
        differences.append(
            np.abs(ours['img'].astype(float) - results['img'].astype(float)).mean()
        )
    # same box: a few grey levels of resampling difference; another box: tens
    assert np.median(differences) < 3.0, differences
    assert max(differences) < 6.0, differences
