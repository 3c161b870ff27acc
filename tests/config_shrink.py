"""Helpers of tests/configs/test_configs.py: shrink a config to CPU size.

Each family keeps its config's pipeline, model type, head, loss, optimizer,
constructor, scheduler, loop and hooks; only sizes shrink (tiny ViT, 32-64
px) and the data becomes the embedded demo or a few synthetic images.
"""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pandas as pd
import torch
from cxr_test_utils import REPO_ROOT, TINY_VIT_ARCH
from mmengine.config import Config, ConfigDict
from mmengine.runner import Runner
from PIL import Image

from cxr_plugins.models.backbones.cxr_vit import CXRViT

PRETRAIN_DEMO_DATA = REPO_ROOT / 'configs/_base_/datasets/pretrain_nih14-demo_64px.py'


# --- classification recipes: tiny backbones, 32 px, demo NIH or image folder

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
    # ResNet-18 is already small at 64 px (the demo's NIH-14 model)
    'ResNet': (dict(depth=18, base_channels=64, stem_channels=64), 512),
}


def shrink_cls_pipeline(pipeline: list) -> list:
    for step in pipeline:
        if step['type'] == 'FastXRayRandomResizedCrop':
            step['size'] = IMG
        elif step['type'] == 'ResizeEdge':
            step['scale'] = IMG + 4
        elif 'scale' in step:
            step['scale'] = IMG if isinstance(step['scale'], int) else (IMG, IMG)
        if 'crop_size' in step:
            step['crop_size'] = IMG
    return pipeline


def write_image_folder(root: Path, num_classes: int) -> Path:
    rng = np.random.default_rng(0)
    for split in ('train', 'val', 'test'):
        for label in range(num_classes):
            folder = root / split / f'class_{label}'
            folder.mkdir(parents=True)
            for index in range(4):
                image = rng.integers(0, 255, (40, 40), dtype=np.uint8)
                cv2.imwrite(str(folder / f'{index}.png'), image)
    return root


def tiny_cls_dataset(
    loader: ConfigDict,
    split: str,
    multi_label: bool,
    demo_dir: Path,
    folder: Path,
    size: int,
) -> dict:
    pipeline = shrink_cls_pipeline(loader['dataset']['pipeline'])
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


# --- pretraining: tiny ViT, 4 demo images, 1 epoch of batch 2


def shrink_pretrain(cfg, tmp_path):
    """Tiny model + 4 demo images + 1 epoch of batch 2, in place."""
    demo = Config.fromfile(PRETRAIN_DEMO_DATA)
    dataset = demo.train_dataloader.dataset
    dataset.data_root = str(REPO_ROOT / 'data' / 'demo' / 'nih14_64px')
    dataset.indices = 4
    cfg.train_dataloader = dict(
        batch_size=2,
        num_workers=0,
        persistent_workers=False,
        sampler=dict(type='DefaultSampler', shuffle=True),
        collate_fn=dict(type='default_collate'),
        dataset=dataset,
    )
    cfg.train_cfg = dict(type='EpochBasedTrainLoop', max_epochs=1)
    cfg.work_dir = str(tmp_path / 'work')
    cfg.vis_backends = [dict(type='LocalVisBackend')]
    cfg.visualizer = dict(type='UniversalVisualizer', vis_backends=cfg.vis_backends)
    model = cfg.model
    if model.type == 'CXRMAE' and model.backbone.img_size != 64:
        patch = model.backbone.patch_size
        model.backbone.update(arch=TINY_VIT_ARCH, img_size=64)
        model.neck.update(
            num_patches=(64 // patch) ** 2,
            embed_dim=32,
            decoder_embed_dim=32,
            decoder_num_heads=2,
        )
    if model.type == 'EVAXMIM':
        patch = model.backbone.patch_size
        model.backbone.update(arch=TINY_VIT_ARCH, img_size=64)
        teacher = CXRViT(
            arch=TINY_VIT_ARCH,
            img_size=64,
            patch_size=patch,
            out_type='featmap',
            final_norm=True,
        )
        teacher_file = tmp_path / 'teacher.pth'
        torch.save(dict(state_dict=teacher.state_dict()), teacher_file)
        model.teacher.update(
            arch=TINY_VIT_ARCH,
            img_size=64,
            init_cfg=dict(type='CXRPretrained', checkpoint=str(teacher_file)),
        )
        model.min_block_patches = 2


# --- MSMAE / MRM: image folders, report CSVs, tiny encoder-decoder

TINY_WIDE_ARCH = dict(
    TINY_VIT_ARCH, embed_dims=64, num_heads=4, feedforward_channels=128
)


def write_png(path, size=40):
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(np.random.randint(0, 255, (size, size), np.uint8)).save(path)


def load_pretrain_config(name, work_dir, batch_size=2, num_samples=4):
    cfg = Config.fromfile(str(REPO_ROOT / 'configs/pretrain' / name))
    cfg.work_dir = str(work_dir)
    cfg.train_dataloader.update(
        batch_size=batch_size, num_workers=0, persistent_workers=False
    )
    cfg.train_dataloader.dataset.indices = num_samples
    cfg.train_cfg.max_epochs = 1
    cfg.default_hooks.logger.interval = 1
    cfg.visualizer.vis_backends = [dict(type='LocalVisBackend')]
    return cfg


def tokenizer_step(pipeline):
    """The ``MRMTokenizeReport`` step of a pipeline (found by type)."""
    return next(t for t in pipeline if t['type'] == 'MRMTokenizeReport')


def set_scale(pipeline, size):
    for transform in pipeline:
        if transform['type'] == 'FastXRayRandomResizedCrop':
            transform['size'] = size
        elif 'scale' in transform:
            transform['scale'] = size if transform['type'] != 'Resize' else (size, size)


def tiny_msmae(cfg, img_size=32, patch_size=8):
    cfg.model.backbone.update(
        arch=TINY_WIDE_ARCH, img_size=img_size, patch_size=patch_size
    )
    cfg.model.neck.update(
        num_patches=(img_size // patch_size) ** 2,
        patch_size=patch_size,
        embed_dim=64,
        decoder_embed_dim=32,
        decoder_depth=1,
        decoder_num_heads=4,
    )
    cfg.model.head.patch_size = patch_size
    set_scale(cfg.train_dataloader.dataset.pipeline, img_size)
    set_scale(cfg.custom_hooks[0].pipeline, img_size)


def train(cfg):
    runner = Runner.from_cfg(cfg)
    runner.train()
    return runner


def final_losses(runner):
    scalars = runner.message_hub.log_scalars
    return {k: v.current() for k, v in scalars.items() if 'loss' in k}


def write_report_csv(root, count=4):
    for i in range(count):
        write_png(root / 'img' / f'{i}.png', size=80)
    pd.DataFrame(
        {
            'image_path': [f'{i}.png' for i in range(count)],
            'report_content': ['FINDINGS: The heart is normal. No effusion.'] * count,
        }
    ).to_csv(root / 'training.csv', index=False)
