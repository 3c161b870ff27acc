"""Tiny models, hooks and configs that provoke faults in training runs.

Imported by the reliability tests in-process (with this folder on
``pythonpath``) and by the training subprocesses they start, through the
configs' ``custom_imports`` and ``PYTHONPATH``. Registered names start with
``RelTest`` so they never clash with real modules.
"""

from __future__ import annotations

import os
import time
from pathlib import Path

import cv2
import numpy as np
import torch
from cxr_test_utils import TINY_VIT_ARCH
from mmengine.dist import get_rank
from mmengine.hooks import Hook
from mmpretrain.models import ImageClassifier
from mmpretrain.registry import HOOKS, MODELS

#: Environment variable: pause the run for good after this many iterations.
PAUSE_ENV = 'RELTEST_PAUSE_AFTER_ITER'
PAUSED_MARKER = 'paused'


@MODELS.register_module(force=True)
class RelTestStatefulClassifier(ImageClassifier):
    """ImageClassifier with a persistent buffer updated by every training step.

    Stands in for state a model keeps between steps (MSMAE's attention maps),
    returns two loss terms (classification and a small feature penalty) and
    can break a given training step.

    Args:
        nan_at_step: 1-based training step whose loss is multiplied by NaN
            (``None``: never).
        explode_at_step: Step whose loss is multiplied by 1e6 (finite).
        nan_grad_at_step: Step with a finite loss but NaN gradients.
        **kwargs: Passed to ``ImageClassifier``.
    """

    def __init__(
        self,
        nan_at_step: int | None = None,
        explode_at_step: int | None = None,
        nan_grad_at_step: int | None = None,
        **kwargs,
    ) -> None:
        super().__init__(**kwargs)
        self.nan_at_step = nan_at_step
        self.explode_at_step = explode_at_step
        self.nan_grad_at_step = nan_grad_at_step
        self.register_buffer('step_count', torch.zeros((), dtype=torch.long))
        self.register_buffer('feature_memory', torch.zeros(4))

    def loss(self, inputs: torch.Tensor, data_samples: list) -> dict:
        features = self.extract_feat(inputs)
        losses = {
            'loss_cls': self.head.loss(features, data_samples)['loss'],
            'loss_reg': 1e-3 * features[-1].pow(2).mean(),
        }
        with torch.no_grad():
            summary = features[-1].mean(dim=0)[:4]
            self.feature_memory.mul_(0.5).add_(summary)
            self.step_count += 1
        step = int(self.step_count)
        if step == self.nan_at_step:
            losses['loss_cls'] = losses['loss_cls'] * float('nan')
        if step == self.explode_at_step:
            losses['loss_cls'] = losses['loss_cls'] * 1e6
        if step == self.nan_grad_at_step:  # d sqrt(u)/du at 0 is inf: NaN grads
            losses['loss_reg'] = losses['loss_reg'] + (0 * features[-1].sum()).sqrt()
        return losses


@HOOKS.register_module(force=True)
class RelTestPauseHook(Hook):
    """Sleep for good after iteration ``$RELTEST_PAUSE_AFTER_ITER`` (test kills it).

    Writes ``<work_dir>/paused`` first, so the test knows where the run stands.
    """

    priority = 'LOWEST'

    def after_train_iter(
        self, runner, batch_idx: int, data_batch=None, outputs=None
    ) -> None:
        pause_after = os.environ.get(PAUSE_ENV)
        if pause_after is not None and runner.iter + 1 == int(pause_after):
            Path(runner.work_dir, PAUSED_MARKER).write_text(str(runner.iter + 1))
            time.sleep(600)


@HOOKS.register_module(force=True)
class RelTestRaiseOnRankHook(Hook):
    """Raise on one rank at one iteration (1-based), as a crashing worker would."""

    def __init__(self, rank: int, at_iter: int) -> None:
        self.rank = rank
        self.at_iter = at_iter

    def before_train_iter(self, runner, batch_idx: int, data_batch=None) -> None:
        if get_rank() == self.rank and runner.iter + 1 == self.at_iter:
            raise RuntimeError(
                f'RelTest deliberate failure on rank {self.rank} at iteration '
                f'{self.at_iter}'
            )


def write_tiny_image_folder(root: Path, per_class: int = 6, size: int = 32) -> Path:
    """``root/{normal,abnormal}/NN.png``: random grey images, a brighter class."""
    generator = np.random.default_rng(0)
    for class_index, name in enumerate(('abnormal', 'normal')):
        folder = root / name
        folder.mkdir(parents=True, exist_ok=True)
        for index in range(per_class):
            image = generator.integers(0, 160, (size, size), dtype=np.uint8)
            image = image + np.uint8(80 * class_index)
            cv2.imwrite(str(folder / f'{name}_{index:02d}.png'), image)
    return root


def tiny_config(
    data_root: Path,
    work_dir: Path,
    max_iters: int = 8,
    checkpoint_interval: int = 2,
    batch_size: int = 4,
    drop_rate: float = 0.2,
    nan_at_step: int | None = None,
    custom_hooks: list | None = None,
) -> dict:
    """A complete iteration-based training config that runs in about a second.

    CXRViT with one 32-d layer on 32x32 images, AdamW with warm-up + cosine
    schedule, shuffled ``DefaultSampler`` and dropout, so a resume has to get
    the sampler position, optimizer moments, schedule and random state right to
    reproduce an uninterrupted run.
    """
    return dict(
        default_scope='mmpretrain',
        custom_imports=dict(
            imports=['cxr_plugins', 'reliability_parts'], allow_failed_imports=False
        ),
        work_dir=str(work_dir),
        model=dict(
            type='RelTestStatefulClassifier',
            nan_at_step=nan_at_step,
            data_preprocessor=dict(mean=[127.5] * 3, std=[127.5] * 3, to_rgb=False),
            backbone=dict(
                type='CXRViT',
                arch=dict(TINY_VIT_ARCH, num_layers=1),
                img_size=32,
                patch_size=8,
                drop_rate=drop_rate,
            ),
            head=dict(
                type='LinearClsHead',
                num_classes=2,
                in_channels=32,
                loss=dict(type='CrossEntropyLoss'),
            ),
        ),
        train_dataloader=dict(
            batch_size=batch_size,
            num_workers=0,
            persistent_workers=False,
            sampler=dict(type='DefaultSampler', shuffle=True),
            collate_fn=dict(type='default_collate'),
            dataset=dict(
                type='CustomDataset',
                data_root=str(data_root),
                with_label=True,
                pipeline=[dict(type='LoadImageFromFile'), dict(type='PackInputs')],
            ),
        ),
        train_cfg=dict(type='IterBasedTrainLoop', max_iters=max_iters),
        optim_wrapper=dict(optimizer=dict(type='AdamW', lr=1e-2, weight_decay=0.05)),
        param_scheduler=[
            dict(type='LinearLR', start_factor=0.1, by_epoch=False, begin=0, end=3),
            dict(
                type='CosineAnnealingLR',
                by_epoch=False,
                begin=3,
                end=max_iters,
                eta_min=1e-4,
            ),
        ],
        default_hooks=dict(
            timer=dict(type='IterTimerHook'),
            logger=dict(type='LoggerHook', interval=1),
            param_scheduler=dict(type='ParamSchedulerHook'),
            checkpoint=dict(
                type='CheckpointHook',
                by_epoch=False,
                interval=checkpoint_interval,
                max_keep_ckpts=-1,
            ),
            sampler_seed=dict(type='DistSamplerSeedHook'),
        ),
        custom_hooks=custom_hooks
        if custom_hooks is not None
        else [
            dict(type='RNGStateHook'),
            dict(type='NaNGuardHook'),
            dict(type='RelTestPauseHook'),
        ],
        log_processor=dict(by_epoch=False),
        visualizer=dict(
            type='UniversalVisualizer', vis_backends=[dict(type='LocalVisBackend')]
        ),
        env_cfg=dict(
            cudnn_benchmark=False,
            dist_cfg=dict(backend='gloo'),
            mp_cfg=dict(mp_start_method='fork', opencv_num_threads=0),
        ),
        randomness=dict(seed=0, deterministic=False),
        log_level='INFO',
        load_from=None,
        resume=False,
    )


def resume_recipe_config(
    data_root: Path,
    work_dir: Path,
    by_epoch: bool,
    num_workers: int,
    persistent_workers: bool,
    max_length: int = 3,
) -> dict:
    """A tiny recipe with every random stream a shipped recipe has.

    16 px images, a two-layer 32-d CXRViT with drop path and dropout, random
    resized crop and flip, validation after every epoch (or every 3
    iterations), checkpoints every epoch (or every 2 iterations).
    ``max_length`` counts epochs (``by_epoch``) or iterations.
    """
    config = tiny_config(data_root, work_dir, max_iters=max_length)
    backbone = config['model']['backbone']
    backbone.update(
        arch=dict(embed_dims=32, num_layers=2, num_heads=2, feedforward_channels=64),
        img_size=16,
        patch_size=8,
        drop_rate=0.1,
        drop_path_rate=0.2,
    )
    train_pipeline = [
        dict(type='LoadImageFromFile'),
        dict(type='RandomResizedCrop', scale=16, crop_ratio_range=(0.5, 1.0)),
        dict(type='RandomFlip', prob=0.5, direction='horizontal'),
        dict(type='PackInputs'),
    ]
    loader = config['train_dataloader']
    loader.update(num_workers=num_workers, persistent_workers=persistent_workers)
    loader['dataset']['pipeline'] = train_pipeline
    config['val_dataloader'] = dict(
        batch_size=6,
        num_workers=0,
        sampler=dict(type='DefaultSampler', shuffle=False),
        collate_fn=dict(type='default_collate'),
        dataset=dict(
            type='CustomDataset',
            data_root=str(data_root),
            with_label=True,
            pipeline=[dict(type='LoadImageFromFile'), dict(type='PackInputs')],
        ),
    )
    config['val_evaluator'] = dict(type='Accuracy', topk=(1,))
    config['val_cfg'] = dict()
    checkpoint = config['default_hooks']['checkpoint']
    if by_epoch:
        config['train_cfg'] = dict(
            type='EpochBasedTrainLoop', max_epochs=max_length, val_interval=1
        )
        config['param_scheduler'] = [
            dict(type='CosineAnnealingLR', by_epoch=True, begin=0, end=max_length)
        ]
        checkpoint.update(by_epoch=True, interval=1)
        config['log_processor'] = dict(by_epoch=True)
    else:
        config['train_cfg'] = dict(
            type='IterBasedTrainLoop', max_iters=max_length, val_interval=3
        )
        config['param_scheduler'] = [
            dict(type='CosineAnnealingLR', by_epoch=False, begin=0, end=max_length)
        ]
        checkpoint.update(by_epoch=False, interval=2)
    return config
