"""Carry the random number generators' state through checkpoints.

mmengine 0.10.7 restores weights, optimizer, schedulers, the message hub and
the dataloader position on ``--resume``, but re-seeds the global generators
from ``randomness.seed`` instead of restoring them, so random masking (MAE,
MSMAE), dropout and drop-path draw different numbers after a resume than the
uninterrupted run would have. :class:`RNGStateHook` stores the Python, NumPy,
torch CPU and CUDA generator states in every checkpoint and restores them right
before the first training iteration after a resume (after mmengine has skipped
the already-trained batches). Draws made while fetching that first batch in the
main process (random transforms with ``num_workers=0``, or the DataLoader's
per-epoch base seed when the resume falls on an epoch boundary) are not
replayed; worker processes are re-seeded by mmengine's ``worker_init_fn``.
"""

from __future__ import annotations

import random

import numpy as np
import torch
from mmengine.dist import get_rank
from mmengine.hooks import Hook
from mmpretrain.registry import HOOKS

#: Key under which the generator states are stored in a checkpoint.
RNG_STATE_KEY = 'cxr_rng_state'


def capture_rng_state() -> dict:
    """The global generators' state, as plain data ``weights_only`` loading accepts."""
    numpy_state = np.random.get_state()
    state = {
        'python': _to_plain(random.getstate()),
        'numpy': {
            'name': numpy_state[0],
            'keys': torch.from_numpy(numpy_state[1]),
            'pos': int(numpy_state[2]),
            'has_gauss': int(numpy_state[3]),
            'cached_gaussian': float(numpy_state[4]),
        },
        'torch': torch.get_rng_state(),
    }
    if torch.cuda.is_available():
        state['cuda'] = torch.cuda.get_rng_state_all()
    return state


def restore_rng_state(state: dict) -> None:
    """Set the global generators to a state from :func:`capture_rng_state`."""
    random.setstate(_to_tuple(state['python']))
    numpy_state = state['numpy']
    np.random.set_state(
        (
            numpy_state['name'],
            numpy_state['keys'].numpy(),
            numpy_state['pos'],
            numpy_state['has_gauss'],
            numpy_state['cached_gaussian'],
        )
    )
    torch.set_rng_state(state['torch'])
    if 'cuda' in state and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(state['cuda'])


def _to_plain(value):
    """Tuples to lists, recursively (``random.getstate`` nests tuples)."""
    if isinstance(value, tuple):
        return [_to_plain(item) for item in value]
    return value


def _to_tuple(value):
    """Inverse of :func:`_to_plain`."""
    if isinstance(value, list):
        return tuple(_to_tuple(item) for item in value)
    return value


@HOOKS.register_module()
class RNGStateHook(Hook):
    """Save the generators' state with each checkpoint and restore it on resume.

    Add to a config with ``custom_hooks = [dict(type='RNGStateHook')]``. The
    state is applied only when training continues at the checkpoint's
    iteration (a resume), not when a checkpoint is merely loaded as
    initial weights. Only rank 0 writes checkpoints, so in a multi-process job
    every rank restores rank 0's state: reproducible, but other ranks' draws
    differ from the uninterrupted run.
    """

    priority = 'VERY_LOW'

    def __init__(self) -> None:
        self._pending_state: dict | None = None
        self._pending_iter = -1

    def before_save_checkpoint(self, runner, checkpoint: dict) -> None:
        checkpoint[RNG_STATE_KEY] = capture_rng_state()

    def after_load_checkpoint(self, runner, checkpoint: dict) -> None:
        self._pending_state = checkpoint.get(RNG_STATE_KEY)
        self._pending_iter = checkpoint.get('meta', {}).get('iter', -1)

    def before_train_iter(
        self, runner, batch_idx: int, data_batch: dict | None = None
    ) -> None:
        state, self._pending_state = self._pending_state, None
        if state is not None and runner.iter == self._pending_iter:
            restore_rng_state(state)
            runner.logger.info(
                f'rank {get_rank()}: restored the random number '
                'generators saved at iteration '
                f'{self._pending_iter}.'
            )
