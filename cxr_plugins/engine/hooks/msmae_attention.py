"""Scheduled refresh of MSMAE's per-image attention maps.

Mao et al., MSMAE (https://arxiv.org/abs/2305.05871): the CLS->patch attention
of every training image is recomputed on a deterministic resize (no crop, no
flip) every ``interval`` epochs once ``warmup_epochs`` have passed (reference:
40 and 40); before that the model masks at random. The maps are stored in the
model's persistent ``attention_maps`` buffer, so checkpoints carry them and a
resumed run keeps them.
"""

from __future__ import annotations

import copy

import torch
from mmengine.dataset import default_collate
from mmengine.hooks import Hook
from mmengine.model import is_model_wrapper
from mmpretrain.registry import DATASETS, HOOKS
from torch.utils.data import DataLoader


def is_refresh_epoch(epoch: int, warmup_epochs: int, interval: int) -> bool:
    """Whether the maps are recomputed before (0-based) ``epoch``."""
    return epoch >= warmup_epochs and (epoch - warmup_epochs) % interval == 0


@HOOKS.register_module()
class MSMAEAttentionHook(Hook):
    """Recompute MSMAE attention maps for the whole training set on a schedule.

    The model must provide ``compute_attention_maps(inputs)`` and
    ``store_attention_maps(indices, maps, num_samples)``: ``MSMAE`` in
    pretraining, ``MSMAEClassifier`` for SAM fine-tuning (released fine-tuning
    schedule: from epoch 0 every 20 epochs).

    Args:
        pipeline: Deterministic pipeline for the refresh pass, e.g.
            ``[LoadImageFromFile, Resize(scale=(224, 224)), PackInputs]``.
        warmup_epochs: First epoch that uses attention maps (reference 40).
        interval: Epochs between refreshes (reference 40).
        batch_size: Batch size of the refresh pass.
        num_workers: Dataloader workers of the refresh pass.
    """

    priority = 'NORMAL'

    def __init__(
        self,
        pipeline: list[dict],
        warmup_epochs: int = 40,
        interval: int = 40,
        batch_size: int = 64,
        num_workers: int = 0,
    ) -> None:
        if interval < 1 or warmup_epochs < 0:
            raise ValueError(
                f'MSMAEAttentionHook: need interval >= 1 and warmup_epochs >= 0, '
                f'got interval={interval}, warmup_epochs={warmup_epochs}'
            )
        self.pipeline = pipeline
        self.warmup_epochs = warmup_epochs
        self.interval = interval
        self.batch_size = batch_size
        self.num_workers = num_workers

    def before_train_epoch(self, runner) -> None:
        """Refresh the maps when the schedule says so."""
        if is_refresh_epoch(runner.epoch, self.warmup_epochs, self.interval):
            self.refresh(runner)

    def refresh(self, runner) -> None:
        """Run the deterministic pass over the training set and store maps."""
        model = runner.model.module if is_model_wrapper(runner.model) else runner.model
        dataset_cfg = copy.deepcopy(runner.cfg.train_dataloader.dataset)
        dataset_cfg['pipeline'] = self.pipeline
        dataset = DATASETS.build(dataset_cfg)
        num_train = len(runner.train_dataloader.dataset)
        if len(dataset) != num_train:
            raise ValueError(
                f'MSMAEAttentionHook: refresh dataset has {len(dataset)} samples but '
                f'the training set has {num_train}; sample indices would not match '
                '(wrapped datasets such as RepeatDataset are not supported)'
            )
        loader = DataLoader(
            dataset,
            batch_size=self.batch_size,
            shuffle=False,
            num_workers=self.num_workers,
            collate_fn=default_collate,
        )
        was_training = model.training
        model.eval()
        with torch.no_grad():
            for data in loader:
                data = model.data_preprocessor(data, False)
                maps = model.compute_attention_maps(data['inputs'])
                indices = torch.tensor([s.sample_idx for s in data['data_samples']])
                model.store_attention_maps(indices, maps, num_train)
        model.train(was_training)
        runner.logger.info(
            f'MSMAEAttentionHook: refreshed {num_train} attention maps before '
            f'epoch {runner.epoch}'
        )
