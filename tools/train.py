"""Train a model from a config: ``python tools/train.py CONFIG [options]``.

Example::

    python tools/train.py configs/demo/vit-demo-p8_1xb64-30e_nih14-demo-64px.py \\
        --work-dir work_dirs/vit_demo

``load_from`` and ``--resume`` refuse a checkpoint that does not fit the model
and name the missing / unexpected / mis-shaped keys (``--non-strict`` loads
what fits and prints what it skipped).
"""

from __future__ import annotations

import argparse

from mmengine.runner import Runner
from torch.distributed.elastic.multiprocessing.errors import record

from cxr_plugins.apis.launch import add_common_args, load_config


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument('config', help='config file')
    parser.add_argument(
        '--resume',
        nargs='?',
        type=str,
        const='auto',
        help='resume from the given checkpoint, or from the latest one in the '
        'work dir when no path is given',
    )
    parser.add_argument(
        '--amp', action='store_true', help='automatic mixed precision (needs a GPU)'
    )
    parser.add_argument(
        '--auto-scale-lr',
        action='store_true',
        help='scale lr by total batch / auto_scale_lr.base_batch_size',
    )
    add_common_args(parser)
    return parser.parse_args(argv)


@record  # torchrun shows a failed rank's exception in its summary
def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    cfg = load_config(args)
    if args.amp:
        cfg.optim_wrapper.type = 'AmpOptimWrapper'
        cfg.optim_wrapper.setdefault('loss_scale', 'dynamic')
    if args.auto_scale_lr:
        cfg.setdefault('auto_scale_lr', {})['enable'] = True
    if args.resume == 'auto':
        cfg.resume, cfg.load_from = True, None
    elif args.resume is not None:
        cfg.resume, cfg.load_from = True, args.resume

    runner = Runner.from_cfg(cfg)
    runner.train()
    if runner.rank == 0:
        print(
            f'[cxr_plugins] checkpoints: {runner.work_dir}\n'
            f'[cxr_plugins] logs: {runner.log_dir}',
            flush=True,
        )


if __name__ == '__main__':
    main()
