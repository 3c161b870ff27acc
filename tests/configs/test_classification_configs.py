"""Every classification recipe builds and trains 2 iterations on CPU.

Each config keeps its own pipeline, model type, head, loss, optimizer,
constructor, scheduler, loop type and evaluator; only sizes shrink (tiny arch,
32 px) and the data becomes the embedded NIH demo (multi-label recipes) or a
synthetic ImageFolder (single-label recipes).
"""

from pathlib import Path

import cv2
import numpy as np
import pytest
from cxr_test_utils import REPO_ROOT, TINY_VIT_ARCH
from mmengine.config import Config, ConfigDict
from mmengine.runner import Runner

import cxr_plugins  # noqa: F401  (registration)

RECIPES = sorted(
    [*(REPO_ROOT / 'configs' / 'classification').rglob('*.py')]
    + [
        p
        for p in (REPO_ROOT / 'configs' / 'demo').glob('*.py')
        if Config.fromfile(p).model.type == 'ImageClassifier'
    ]
)
IMG = 32
TINY_BACKBONES = {
    'CXRViT': (
        dict(
            arch=TINY_VIT_ARCH,
            img_size=IMG,
            patch_size=8,
        ),
        32,
    ),
    'EVAX': (dict(arch='demo', img_size=IMG, patch_size=8), 64),
    'CXRDenseNet': (dict(arch='demo'), 32),
}


def test_recipes_found():
    assert len(RECIPES) >= 15, RECIPES


def _shrink_pipeline(pipeline: list) -> list:
    for step in pipeline:
        if step['type'] == 'ResizeEdge':
            step['scale'] = IMG + 4
        elif 'scale' in step:
            step['scale'] = IMG if isinstance(step['scale'], int) else (IMG, IMG)
        if 'crop_size' in step:
            step['crop_size'] = IMG
    return pipeline


def _image_folder(root: Path, num_classes: int) -> Path:
    rng = np.random.default_rng(0)
    for split in ('train', 'val', 'test'):
        for label in range(num_classes):
            folder = root / split / f'class_{label}'
            folder.mkdir(parents=True)
            for index in range(4):
                image = rng.integers(0, 255, (40, 40), dtype=np.uint8)
                cv2.imwrite(str(folder / f'{index}.png'), image)
    return root


def _tiny_dataset(
    loader: ConfigDict,
    split: str,
    multi_label: bool,
    demo_dir: Path,
    folder: Path,
    size: int,
) -> dict:
    pipeline = _shrink_pipeline(loader['dataset']['pipeline'])
    if multi_label:
        return dict(
            type='NIHChestXray14',
            data_root=str(demo_dir / 'nih14_64px'),
            ann_file='labels.csv',
            split=split,
            patient_split=dict(train=0.6, val=0.2, test=0.2),
            indices=size,
            test_mode=split != 'train',
            pipeline=pipeline,
        )
    return dict(
        type='CXRImageFolder',
        data_root=str(folder),
        split=split,
        indices=size if split == 'train' else None,
        test_mode=split != 'train',
        pipeline=pipeline,
    )


@pytest.mark.slow
@pytest.mark.parametrize('config', RECIPES, ids=lambda p: p.stem)
def test_recipe_trains_two_iterations(config, tmp_path, demo_dir):
    cfg = Config.fromfile(str(config))
    backbone = cfg.model.backbone
    overrides, channels = TINY_BACKBONES[backbone.type]
    backbone.update(overrides)
    backbone.pop('init_cfg', None)
    head = cfg.model.head
    head.in_channels = channels
    multi_label = head.type.startswith('MultiLabel')
    if multi_label:
        head.num_classes = 14
    cfg.data_preprocessor.num_classes = head.num_classes
    folder = None if multi_label else _image_folder(tmp_path / 'data', head.num_classes)
    for name, split, size in (
        ('train_dataloader', 'train', 4),
        ('val_dataloader', 'val', 40),
        ('test_dataloader', 'test', 40),
    ):
        loader = cfg[name]
        loader.dataset = _tiny_dataset(
            loader, split, multi_label, demo_dir, folder, size
        )
        loader.update(
            batch_size=2 if split == 'train' else 20,
            num_workers=0,
            persistent_workers=False,
        )
    if cfg.train_cfg.get('type') == 'IterBasedTrainLoop':
        cfg.train_cfg.update(max_iters=2, val_interval=2)
    else:
        cfg.train_cfg.update(max_epochs=1, val_interval=1)
    cfg.visualizer.vis_backends = [dict(type='LocalVisBackend')]
    cfg.work_dir = str(tmp_path / 'work')
    runner = Runner.from_cfg(cfg)
    runner.train()
    assert runner.iter == 2
    best = list((tmp_path / 'work').glob('best_*.pth'))
    assert best, 'save_best on the validation metric wrote no checkpoint'
