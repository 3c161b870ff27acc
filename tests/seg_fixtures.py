"""Segmentation fixtures (a pytest plugin of ``tests/conftest.py``).

The SIIM sample prepared once per session and tiny segmentation configs; the
modules that use them pin mmseg's registry scope with the ``mmseg_scope``
fixture of ``conftest.py``.
"""

from __future__ import annotations

import copy
import csv
from pathlib import Path

import pytest
import torch
from cxr_test_utils import TINY_VIT_ARCH, load_tool

import cxr_plugins.seg  # noqa: F401  (compat shims before any mmseg import)

TINY_SIZE = (64, 64)
TINY_VIT = dict(TINY_VIT_ARCH, embed_dims=64, num_layers=4, feedforward_channels=128)


def prepare_siim_main(argv: list[str]) -> dict:
    """Run ``tools/data/prepare_siim.py`` in-process (``tools`` is no package)."""
    return load_tool('tools/data/prepare_siim.py').main(argv)


@pytest.fixture(scope='session')
def siim_sample(shared_data: Path) -> Path:
    """The 14 real SIIM-ACR images with their official RLE rows."""
    return shared_data / 'siim_acr_sample'


@pytest.fixture(scope='session')
def siim_prepared(siim_sample: Path, tmp_path_factory) -> Path:
    """``prepare_siim.py`` run on the 14 images, every image in train and val.

    The given lists let train and val share images, so validation covers both
    positive and negative images.
    """
    base = tmp_path_factory.mktemp('siim_prepared')
    out = base / 'siim_acr'
    with open(siim_sample / 'labels.csv', newline='') as handle:
        ids = [row['ImageId'] for row in csv.DictReader(handle)]
    id_list = base / 'all_ids.txt'
    id_list.write_text('\n'.join(ids) + '\n')
    prepare_siim_main(
        [
            '--rle-csv',
            str(siim_sample / 'train-rle.csv'),
            '--images',
            str(siim_sample / 'images'),
            '--out-dir',
            str(out),
            '--split-list',
            f'train={id_list}',
            '--split-list',
            f'val={id_list}',
        ]
    )
    return out


def _resize_pipeline(pipeline: list[dict], size: tuple[int, int]) -> None:
    for step in pipeline:
        if step['type'] in ('Resize', 'RandomResize'):
            step['scale'] = size
        if step['type'] == 'RandomCrop':
            step['crop_size'] = size


def tiny_overrides(
    cfg, work_dir: Path, siim_root: Path | None, num_train: int = 4, batch_size: int = 2
) -> None:
    """Shrink a segmentation config in place: tiny model, 64 px, 2 iterations.

    ViT backbones become a 4-layer 64-d CXRViT or a 2-layer 64-d EVAX (neck
    and heads follow), smp
    encoders are kept, SIIM configs point at ``siim_root``, every dataset is
    cut to a few samples, and the schedule keeps the config's own scheduler.
    """
    torch.manual_seed(0)
    model = cfg.model
    model.data_preprocessor.size = TINY_SIZE
    if 'CXRViT' in model.backbone.type:
        model.backbone.update(
            arch=TINY_VIT, img_size=TINY_SIZE[0], patch_size=8, init_cfg=None
        )
        if len(model.backbone.out_indices) == 4:
            model.backbone.out_indices = (0, 1, 2, 3)
        else:
            model.backbone.out_indices = (3,)
        model.neck.embed_dim = 64
        model.decode_head.update(in_channels=[64] * 4, channels=32)
        if model.get('auxiliary_head'):
            model.auxiliary_head.update(in_channels=64, channels=16)
    elif 'EVAX' in model.backbone.type:  # 2-layer 64-d EVA-X, same blocks
        model.backbone.update(
            arch='demo', img_size=TINY_SIZE[0], patch_size=8, init_cfg=None
        )
        model.backbone.out_indices = (1,)
        model.neck.embed_dim = 64
        model.decode_head.update(in_channels=[64] * 4, channels=32)
    for loader_name in ('train_dataloader', 'val_dataloader', 'test_dataloader'):
        loader = cfg[loader_name]
        loader.update(num_workers=0, persistent_workers=False)
        dataset = loader.dataset
        if dataset.type == 'SIIMPneumothoraxDataset':
            dataset.data_root = str(siim_root)
            split = 'train' if loader_name == 'train_dataloader' else 'val'
            dataset.data_prefix = dict(
                img_path=f'img_dir/{split}', seg_map_path=f'ann_dir/{split}'
            )
        _resize_pipeline(dataset.pipeline, TINY_SIZE)
    cfg.train_dataloader.batch_size = batch_size
    if cfg.train_dataloader.sampler.type != 'PositiveNegativeSampler':
        cfg.train_dataloader.dataset.indices = num_train
    cfg.val_dataloader.dataset.indices = 2
    if cfg.train_cfg.type == 'EpochBasedTrainLoop':
        cfg.train_cfg.update(max_epochs=1, val_interval=1)
    else:
        cfg.train_cfg.update(max_iters=2, val_interval=2)
    cfg.default_hooks.logger.interval = 1
    cfg.default_hooks.checkpoint.update(interval=1000, save_best=None)
    cfg.default_hooks.pop('visualization', None)
    cfg.visualizer.vis_backends = [dict(type='LocalVisBackend')]
    cfg.work_dir = str(work_dir)
    cfg.randomness = dict(seed=0)


@pytest.fixture
def tiny_config():
    """Callable ``(config path, work_dir, siim_root) -> shrunk Config``."""
    from mmengine.config import Config

    def load(path: Path, work_dir: Path, siim_root: Path | None = None, **kwargs):
        cfg = Config.fromfile(str(path))
        tiny_overrides(cfg, work_dir, siim_root, **kwargs)
        return copy.deepcopy(cfg)

    return load
