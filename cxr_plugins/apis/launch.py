"""Launch helpers shared by ``tools/train.py`` and ``tools/test.py``."""

from __future__ import annotations

import argparse
import os
import os.path as osp

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
