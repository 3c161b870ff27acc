"""Exact resume: carry the model's random stream, replay the data's.

mmengine 0.10.7 restores weights, optimizer, schedulers, the message hub and
the dataloader position on ``--resume``, but re-seeds the global generators
from ``randomness.seed`` instead of restoring them, and its data loading draws
from the same generators as the model. Three things then differ from the
uninterrupted run: the model's draws (dropout, drop path, MAE masking), the
random transforms run in the main process (``num_workers=0``), whose draws
are interleaved with the model's, and persistent workers, which restart from
their initial seed instead of continuing. Each DataLoader iterator also takes
a base seed from the global torch generator, so validation between a
checkpoint and the next step shifts the model's stream.

:class:`RNGStateHook` separates the two streams and makes each reproducible:

* Model stream: the Python, NumPy, torch CPU and CUDA generator states are
  stored in every checkpoint and restored in ``before_train`` of a resumed
  run, i.e. at the point equivalent to the save; nothing between that point
  and the first step draws from them any more (below).
* Data stream: every training dataset pipeline is wrapped by
  :class:`EpochSeededPipeline`, which seeds the generators of the process
  running it from ``(seed, rank, worker id, sampler epoch)`` at the first
  sample of each epoch (the epoch reaches persistent workers through shared
  memory; the sampler's ``set_epoch`` writes it). In the main process the
  pipeline runs on its own saved states, swapped in and out around each
  sample, so the model's stream is untouched. An epoch-based resume starts at
  an epoch boundary and re-seeds; an iteration-based one replays the skipped
  batches (mmengine loads them) and so the same draws.
* DataLoaders get a dedicated ``generator`` for their base seed.

mmengine's own ``worker_init_fn`` (seed + rank x workers + worker id) ignores
the epoch, so non-persistent workers repeat their draws every epoch and
persistent workers cannot be replayed; the per-epoch re-seeding fixes both.
Not covered: draws outside a dataset's ``pipeline`` (mmengine's
``_rand_another`` after a failed sample), datasets without a ``pipeline``
(logged), the first pass of an iteration-based loop's workers (started when
the loop is built, before any hook, and replayed by mmengine's skip), and a
checkpoint saved mid-epoch by an epoch-based loop (mmengine restarts that
epoch).
"""

from __future__ import annotations

import multiprocessing
import os
import random
from collections.abc import Callable, Iterator

import numpy as np
import torch
from mmengine.dist import get_rank
from mmengine.hooks import Hook
from mmpretrain.registry import HOOKS
from torch.utils.data import DataLoader, get_worker_info

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


def seed_process_generators(seed: int) -> None:
    """Seed Python's, NumPy's and torch's global generators of this process."""
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)


def data_stream_seed(seed: int, rank: int, worker_id: int, epoch: int) -> int:
    """32-bit seed of one data stream (``worker_id=-1``: the main process)."""
    key = [seed % 2**32, rank, worker_id + 1, epoch]
    return int(np.random.SeedSequence(key).generate_state(1)[0])


def _capture_cpu_streams() -> tuple:
    return random.getstate(), np.random.get_state(), torch.get_rng_state()


def _restore_cpu_streams(state: tuple) -> None:
    random.setstate(state[0])
    np.random.set_state(state[1])
    torch.set_rng_state(state[2])


class EpochSeededPipeline:
    """A dataset pipeline whose draws depend on the epoch, not on history.

    Picklable, so it travels to spawned workers with the dataset.

    Args:
        pipeline: The dataset's pipeline (a callable on the results dict).
        seed: Base seed (the runner's ``randomness.seed``).
        rank: Distributed rank.
        epoch: Shared-memory integer holding the sampler's current epoch.
    """

    def __init__(
        self, pipeline: Callable, seed: int, rank: int, epoch: multiprocessing.Value
    ) -> None:
        self.pipeline = pipeline
        self.seed = seed
        self.rank = rank
        self.epoch = epoch
        self._process_id = None
        self._seeded_epoch = None
        self._main_stream = None

    def __call__(self, results: dict) -> dict | None:
        epoch = int(self.epoch.value)
        if self._process_id != os.getpid():  # a fresh (forked) worker
            self._process_id, self._seeded_epoch = os.getpid(), None
        info = get_worker_info()
        worker_id = -1 if info is None else info.id
        new_epoch = self._seeded_epoch != epoch
        stream_seed = data_stream_seed(self.seed, self.rank, worker_id, epoch)
        self._seeded_epoch = epoch
        if info is not None:
            if new_epoch:
                seed_process_generators(stream_seed)
            return self.pipeline(results)
        model_stream = _capture_cpu_streams()
        if new_epoch:
            seed_process_generators(stream_seed)
        else:
            _restore_cpu_streams(self._main_stream)
        try:
            return self.pipeline(results)
        finally:
            self._main_stream = _capture_cpu_streams()
            _restore_cpu_streams(model_stream)

    def __getattr__(self, name: str):
        if name == 'pipeline':  # not yet set while unpickling
            raise AttributeError(name)
        return getattr(self.pipeline, name)

    def __repr__(self) -> str:
        return f'EpochSeededPipeline({self.pipeline!r})'


def _datasets_with_pipeline(dataset) -> Iterator:
    """``dataset`` and the datasets it wraps that own a ``pipeline``."""
    if callable(getattr(dataset, 'pipeline', None)):
        yield dataset
    for inner in getattr(dataset, 'datasets', None) or []:
        yield from _datasets_with_pipeline(inner)
    inner = getattr(dataset, 'dataset', None)
    if inner is not None and inner is not dataset:
        yield from _datasets_with_pipeline(inner)


def _sampler_of(loader: DataLoader):
    sampler = getattr(loader, 'sampler', None)
    if sampler is None or not hasattr(sampler, 'set_epoch'):
        sampler = getattr(getattr(loader, 'batch_sampler', None), 'sampler', None)
    return sampler


def seed_data_stream_by_epoch(loader: DataLoader, seed: int, rank: int) -> int:
    """Wrap the pipelines of ``loader``'s datasets in :class:`EpochSeededPipeline`.

    The sampler's ``set_epoch`` is extended to publish the epoch to the
    pipelines (and to the workers, through shared memory).

    Returns:
        How many pipelines were wrapped (0: no random stream was isolated).
    """
    sampler = _sampler_of(loader)
    epoch = multiprocessing.Value('q', int(getattr(sampler, 'epoch', 0)), lock=False)
    wrapped = 0
    for dataset in _datasets_with_pipeline(loader.dataset):
        if not isinstance(dataset.pipeline, EpochSeededPipeline):
            dataset.pipeline = EpochSeededPipeline(dataset.pipeline, seed, rank, epoch)
            wrapped += 1
    if wrapped and hasattr(sampler, 'set_epoch'):
        original_set_epoch = sampler.set_epoch

        def set_epoch(value: int, *args, **kwargs):
            epoch.value = int(value)
            return original_set_epoch(value, *args, **kwargs)

        sampler.set_epoch = set_epoch
    return wrapped


@HOOKS.register_module()
class RNGStateHook(Hook):
    """Make a resumed run draw the same random numbers as an uninterrupted one.

    Add to a config with ``custom_hooks = [dict(type='RNGStateHook')]``. Saves
    the model's generator states with each checkpoint and restores them when
    training continues at the checkpoint's iteration (a resume, not a
    ``load_from``); gives the training data its own epoch-seeded stream and
    the DataLoaders their own base-seed generator (see the module docstring).
    Only rank 0 writes checkpoints, so in a multi-process job every rank
    restores rank 0's model state: reproducible, but other ranks' draws differ
    from the uninterrupted run.
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

    def before_train(self, runner) -> None:
        seed = runner.seed if runner.seed is not None else 0
        loop = runner.train_loop
        for owner in (loop, runner.val_loop):
            loader = getattr(owner, 'dataloader', None)
            if isinstance(loader, DataLoader) and loader.generator is None:
                loader.generator = torch.Generator().manual_seed(seed)
        if seed_data_stream_by_epoch(loop.dataloader, seed, get_rank()) == 0:
            runner.logger.warning(
                'RNGStateHook: the training dataset has no pipeline to seed; '
                "its random draws (if any) share the model's stream and a "
                'resumed run may differ from an uninterrupted one.'
            )
        state, self._pending_state = self._pending_state, None
        if state is not None and runner.iter == self._pending_iter:
            restore_rng_state(state)
            runner.logger.info(
                f'rank {get_rank()}: restored the random number '
                'generators saved at iteration '
                f'{self._pending_iter}.'
            )
