"""Positive-plus-sampled-negatives sampler (mmengine ``DATA_SAMPLERS``).

MRM (Zhou et al., ICLR 2023, https://arxiv.org/abs/2301.13155) fine-tunes on
SIIM-ACR with every pneumothorax-positive image plus a fresh random draw of
``0.4 x #positives`` negatives in each epoch. This sampler does that, seeded
per epoch and split across ranks like mmengine's ``DefaultSampler``.
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Sized

import torch
from mmengine.dataset import BaseDataset
from mmengine.dist import get_dist_info, sync_random_seed
from mmengine.registry import DATA_SAMPLERS
from torch.utils.data import Sampler


def positive_negative_indices(
    positive: torch.Tensor,
    negative_ratio: float,
    generator: torch.Generator,
    shuffle: bool = True,
) -> torch.Tensor:
    """All positive indices plus ``round(ratio * #pos)`` random negatives.

    Args:
        positive: ``(N,)`` bool flags of the dataset's samples.
        negative_ratio: Negatives drawn per positive (capped at all negatives).
        generator: Source of randomness.
        shuffle: Shuffle the combined indices.

    Returns:
        1-D ``int64`` tensor of dataset indices.
    """
    positives = torch.nonzero(positive, as_tuple=True)[0]
    negatives = torch.nonzero(~positive, as_tuple=True)[0]
    num_negatives = min(round(negative_ratio * len(positives)), len(negatives))
    chosen = negatives[
        torch.randperm(len(negatives), generator=generator)[:num_negatives]
    ]
    indices = torch.cat([positives, chosen])
    if shuffle:
        indices = indices[torch.randperm(len(indices), generator=generator)]
    return indices


@DATA_SAMPLERS.register_module()
class PositiveNegativeSampler(Sampler):
    """Each epoch: all positives + ``negative_ratio x #positives`` negatives.

    Args:
        dataset: Dataset whose ``get_data_info(i)[positive_key]`` is truthy for
            positive samples.
        negative_ratio: Negatives per positive in an epoch (MRM: 0.4).
        positive_key: Key of the positive flag in the data info.
        shuffle: Shuffle the epoch's indices.
        seed: Base seed (synchronised across ranks when ``None``); the epoch
            is added to it.
        round_up: Pad the index list so every rank gets as many samples.
    """

    def __init__(
        self,
        dataset: Sized,
        negative_ratio: float = 0.4,
        positive_key: str = 'pneumothorax',
        shuffle: bool = True,
        seed: int | None = None,
        round_up: bool = True,
    ) -> None:
        if negative_ratio < 0:
            raise ValueError(f'negative_ratio must be >= 0, got {negative_ratio}')
        rank, world_size = get_dist_info()
        self.rank, self.world_size = rank, world_size
        self.dataset = dataset
        self.negative_ratio = negative_ratio
        self.shuffle = shuffle
        self.seed = sync_random_seed() if seed is None else seed
        self.round_up = round_up
        self.epoch = 0
        if isinstance(dataset, BaseDataset):
            dataset.full_init()
        flags = []
        for index in range(len(dataset)):
            info = dataset.get_data_info(index)
            if positive_key not in info:
                raise KeyError(
                    f'sample {index} ({info.get("img_path")}) has no '
                    f'{positive_key!r} flag'
                )
            flags.append(bool(info[positive_key]))
        self.positive = torch.tensor(flags, dtype=torch.bool)
        num_positive = int(self.positive.sum())
        self.epoch_size = num_positive + min(
            round(negative_ratio * num_positive), len(flags) - num_positive
        )
        if round_up:
            self.num_samples = math.ceil(self.epoch_size / world_size)
            self.total_size = self.num_samples * world_size
        else:
            self.num_samples = math.ceil((self.epoch_size - rank) / world_size)
            self.total_size = self.epoch_size

    def __iter__(self) -> Iterator[int]:
        generator = torch.Generator()
        generator.manual_seed(self.seed + self.epoch)
        indices = positive_negative_indices(
            self.positive, self.negative_ratio, generator, self.shuffle
        ).tolist()
        if self.round_up and indices:
            repeats = math.ceil(self.total_size / len(indices))
            indices = (indices * repeats)[: self.total_size]
        return iter(indices[self.rank : self.total_size : self.world_size])

    def __len__(self) -> int:
        return self.num_samples

    def set_epoch(self, epoch: int) -> None:
        """Draw a new set of negatives (called by ``DistSamplerSeedHook``)."""
        self.epoch = epoch
