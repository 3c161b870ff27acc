"""Launch helpers shared by ``tools/train.py`` and ``tools/test.py``."""

from __future__ import annotations

import argparse
import copy
import os
import os.path as osp
import time
from collections.abc import Callable
from dataclasses import dataclass

import torch
from mmengine.config import Config, DictAction

import cxr_plugins  # noqa: F401  (applies compat shims, registers modules)
from cxr_plugins import compat
from cxr_plugins.engine.checkpoint import allow_non_strict_load


def add_common_args(parser: argparse.ArgumentParser) -> None:
    """Arguments every tool takes."""
    parser.add_argument('--work-dir', help='where logs and checkpoints go')
    parser.add_argument(
        '--cfg-options',
        nargs='+',
        action=DictAction,
        help='override config keys, e.g. train_dataloader.batch_size=8',
    )
    parser.add_argument(
        '--launcher',
        choices=['none', 'pytorch', 'slurm', 'mpi'],
        default='none',
        help='job launcher (tools/dist_*.sh set pytorch)',
    )
    parser.add_argument(
        '--unsafe-load',
        action='store_true',
        help='fully unpickle trusted legacy checkpoints (can execute code)',
    )
    parser.add_argument(
        '--non-strict',
        action='store_true',
        help='load a checkpoint that does not fit the model (load_from, '
        '--resume, tools/test.py): load what fits and print every missing, '
        'unexpected and mis-shaped key skipped; without it such a checkpoint '
        'is refused',
    )
    parser.add_argument(
        '--local_rank', '--local-rank', type=int, default=0, help=argparse.SUPPRESS
    )


def load_config(args: argparse.Namespace) -> Config:
    """Read the config and apply the command-line overrides."""
    if args.unsafe_load:
        compat.allow_unsafe_load()
    allow_non_strict_load(getattr(args, 'non_strict', False))
    if 'LOCAL_RANK' not in os.environ:
        os.environ['LOCAL_RANK'] = str(args.local_rank)
    cfg = Config.fromfile(args.config)
    if args.cfg_options:
        cfg.merge_from_dict(args.cfg_options)
    cfg.launcher = args.launcher
    if args.work_dir is not None:
        cfg.work_dir = args.work_dir
    elif cfg.get('work_dir') is None:
        stem = osp.splitext(osp.basename(args.config))[0]
        cfg.work_dir = osp.join('./work_dirs', stem)
    if args.launcher != 'none' and not torch.cuda.is_available():
        adapt_for_cpu_distributed(cfg)
    return cfg


def _replace_sync_bn(node: object) -> None:
    if isinstance(node, dict):
        if node.get('type') in ('SyncBN', 'MMSyncBN'):
            node['type'] = 'BN'
        for value in node.values():
            _replace_sync_bn(value)
    elif isinstance(node, list | tuple):
        for value in node:
            _replace_sync_bn(value)


def adapt_for_cpu_distributed(cfg: Config) -> None:
    """Run a multi-process job on CPU: gloo, DDP without devices, plain BN.

    mmengine defaults to NCCL and passes ``device_ids=[rank]`` to DDP, and
    SyncBN has no CPU implementation (STACK.md items 5 and 6).
    """
    cfg.setdefault('env_cfg', {}).setdefault('dist_cfg', {})['backend'] = 'gloo'
    wrapper = cfg.get('model_wrapper_cfg') or dict(type='MMDistributedDataParallel')
    wrapper.update(device_ids=None, broadcast_buffers=False)
    cfg.model_wrapper_cfg = wrapper
    _replace_sync_bn(cfg.model)


@dataclass(frozen=True)
class ThreadPlan:
    """Intra-op threads of this process and data-loader workers per loader."""

    intra_op_threads: int
    num_workers: int
    reason: str


#: A larger thread count must beat a smaller one on the probe by this factor.
PROBE_MARGIN = 1.4


def plan_threads(
    requested: int | str,
    num_workers: int,
    on_gpu: bool,
    local_world_size: int = 1,
    cores: int | None = None,
    load_average: float | None = None,
    probe: Callable[[int], float] | None = None,
) -> ThreadPlan:
    """Choose intra-op threads and worker counts from the cores this process may use.

    Oversubscription is what hurts: on a 2-core machine under load 5, two
    intra-op threads ran a training step 2-3x slower than one. The policy:

    * cores per process = ``len(os.sched_getaffinity(0)) // local_world_size``;
    * workers are capped at that number (each runs one thread, torch's default
      in ``DataLoader`` workers);
    * on GPU the main process only feeds the device: threads = cores - workers
      (at least 1);
    * on CPU the step is the work (data wait is ~0.03 % of a step): the
      candidates are 1, all cores per process, and those minus the cores the
      1-minute load average says others keep busy; with ``probe`` (the
      tools pass :func:`gemm_probe_seconds`) the fastest candidate on a short
      timed GEMM wins, which catches oversubscription the lagging load
      average misses; without it, the load-based count.

    Args:
        requested: ``'auto'`` for the policy, or a positive thread count
            (``--threads N`` / config ``threads = N``) used as given.
        num_workers: ``train_dataloader.num_workers`` of the config.
        on_gpu: Whether the step runs on a GPU.
        local_world_size: Processes on this node (``LOCAL_WORLD_SIZE``).
        cores: Cores this process may run on; default ``os.sched_getaffinity``.
        load_average: Busy cores of other processes; default ``os.getloadavg()[0]``.
        probe: Seconds of a fixed CPU workload at a given thread count.
    """
    affinity = cores if cores is not None else len(os.sched_getaffinity(0))
    per_process = max(1, affinity // max(1, local_world_size))
    workers = min(num_workers, per_process)
    facts = f'{affinity} usable cores, {local_world_size} process(es) on this node'
    if requested != 'auto':
        threads = int(requested)
        if threads < 1:
            raise ValueError(f'threads must be "auto" or >= 1, got {requested!r}')
        return ThreadPlan(threads, workers, f'{threads} threads as requested ({facts})')
    if on_gpu:
        threads = max(1, per_process - workers)
        why = f'GPU step: {per_process} cores - {workers} workers'
    else:
        load = os.getloadavg()[0] if load_average is None else load_average
        busy = min(affinity - 1, int(load)) / max(1, local_world_size)
        by_load = max(1, int(per_process - busy))
        candidates = sorted({1, by_load, per_process})
        if probe is not None and len(candidates) > 1:
            seconds = {count: probe(count) for count in candidates}
            # more threads only for a clear gain: a training step synchronises
            # its threads far more often than the probe, so it loses more when
            # a core is contended (measured: probe 1.2x faster, step 0.5x)
            threads = candidates[0]
            for count in candidates[1:]:
                if seconds[count] * PROBE_MARGIN < seconds[threads]:
                    threads = count
            timed = ', '.join(f'{c}: {1e3 * t:.1f} ms' for c, t in seconds.items())
            why = f'CPU step: fastest probe GEMM ({timed}; load {load:.2f})'
        else:
            threads = by_load
            why = (
                f'CPU step: {per_process} cores - {busy:g} kept busy by others '
                f'(load {load:.2f})'
            )
    return ThreadPlan(threads, workers, f'{threads} intra-op threads ({why}; {facts})')


def gemm_probe_seconds(threads: int, size: int = 384, repeats: int = 5) -> float:
    """Median seconds of 4 fp32 ``size``-square matmuls at ``threads`` threads."""
    previous = torch.get_num_threads()
    torch.set_num_threads(threads)
    a = torch.randn(size, size)
    times = []
    try:
        for _ in range(repeats):
            start = time.perf_counter()
            for _ in range(4):
                torch.mm(a, a)
            times.append(time.perf_counter() - start)
    finally:
        torch.set_num_threads(previous)
    return sorted(times)[len(times) // 2]


def apply_thread_policy(cfg: Config, requested: int | str | None = None) -> ThreadPlan:
    """Set torch's intra-op threads and cap the loaders' workers; prints the plan.

    ``requested`` (``--threads``) wins over the config's top-level ``threads``
    key, which wins over an ``OMP_NUM_THREADS`` set in the environment (the
    usual way to pin threads; the tests and benchmarks rely on it); ``'auto'``
    when none is given. Call before the dataloaders are built.
    """
    choice = requested if requested is not None else cfg.get('threads')
    if choice is None:
        choice = os.environ.get('OMP_NUM_THREADS', 'auto')
    loader = cfg.get('train_dataloader') or {}
    plan = plan_threads(
        choice,
        int(loader.get('num_workers', 0)),
        on_gpu=torch.cuda.is_available(),
        local_world_size=int(os.environ.get('LOCAL_WORLD_SIZE', 1)),
        probe=gemm_probe_seconds,
    )
    for key in ('train_dataloader', 'val_dataloader', 'test_dataloader'):
        section = cfg.get(key)
        if section and section.get('num_workers', 0) > plan.num_workers:
            print(
                f'[cxr_plugins] {key}.num_workers {section["num_workers"]} -> '
                f'{plan.num_workers} (no more workers than usable cores)',
                flush=True,
            )
            section['num_workers'] = plan.num_workers
            if plan.num_workers == 0:
                section['persistent_workers'] = False
    torch.set_num_threads(plan.intra_op_threads)
    print(f'[cxr_plugins] threads: {plan.reason}', flush=True)
    return plan


#: ``--strategy`` choices. FSDP (Zhao et al., "PyTorch FSDP", VLDB 2023,
#: https://arxiv.org/abs/2304.11277) shards parameters, gradients and optimizer
#: state; each transformer block with >= 5 M parameters (ViT-B/L/H encoder
#: blocks) becomes one FSDP unit, gathered only while it computes.
STRATEGIES = {
    'ddp': None,
    'fsdp': dict(
        type='FSDPStrategy',
        model_wrapper=dict(
            auto_wrap_policy=dict(
                type='torch.distributed.fsdp.wrap.size_based_auto_wrap_policy',
                min_num_params=5_000_000,
            )
        ),
        state_dict_cfg='full',
    ),
}


def apply_strategy(cfg: Config, strategy: str | None) -> type:
    """The runner class for ``--strategy``, with ``cfg.strategy`` set to match.

    ``None`` keeps the config's choice: ``FlexibleRunner`` when it has a
    ``strategy`` key, mmengine's ``Runner`` (DDP when distributed) otherwise.
    ``'fsdp'`` uses the config's ``strategy`` if it is an FSDP one, else
    :data:`STRATEGIES` ``['fsdp']``; ``'ddp'`` drops a config ``strategy``
    (printed).
    """
    from mmengine.runner import FlexibleRunner, Runner

    if strategy is None:
        if not cfg.get('strategy'):
            return Runner
        strategy = 'fsdp' if cfg.strategy.get('type') == 'FSDPStrategy' else None
        if strategy is None:
            return FlexibleRunner
    if strategy == 'ddp':
        if cfg.get('strategy'):
            print(
                f'[cxr_plugins] --strategy ddp: ignoring the config strategy '
                f'{cfg.strategy.get("type")}',
                flush=True,
            )
            cfg.pop('strategy')
        return Runner
    if strategy != 'fsdp':
        raise ValueError(
            f'--strategy must be one of {sorted(STRATEGIES)}, got {strategy}'
        )
    if (cfg.get('strategy') or {}).get('type') != 'FSDPStrategy':
        cfg.strategy = copy.deepcopy(STRATEGIES['fsdp'])
    if not torch.cuda.is_available():
        # mmengine passes device_id=LOCAL_RANK, a CUDA index; FSDP runs on CPU
        # (gloo) when given the CPU device instead.
        cfg.strategy.setdefault('model_wrapper', {})['device_id'] = 'cpu'
    if cfg.get('model_wrapper_cfg'):
        print(
            '[cxr_plugins] --strategy fsdp: model_wrapper_cfg (DDP) dropped', flush=True
        )
        cfg.pop('model_wrapper_cfg')
    if cfg.optim_wrapper.get('type') in ('AmpOptimWrapper', 'AutoAmpOptimWrapper'):
        cfg.optim_wrapper['use_fsdp'] = True  # sharded gradient scaler on GPU
    return FlexibleRunner
