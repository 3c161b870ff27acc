"""Train a model from a config: ``python tools/train.py CONFIG [options]``.

Example::

    python tools/train.py configs/demo/vit-demo-p8_1xb64-30e_nih14-demo-64px.py \\
        --work-dir work_dirs/vit_demo

``load_from`` and ``--resume`` refuse a checkpoint that does not fit the model
and name the missing / unexpected / mis-shaped keys (``--non-strict`` loads
what fits and prints what it skipped).
    python tools/train.py configs/demo/vit-demo-p8_1xb64-30e_nih14-demo-64px.py --amp

(``--amp``: fp16 on a GPU, bf16 autocast on a CPU with native bf16;
``--strategy fsdp``: shard parameters with mmengine's ``FlexibleRunner``).
"""

from __future__ import annotations

import argparse

from torch.distributed.elastic.multiprocessing.errors import record

from cxr_plugins.apis.launch import (
    STRATEGIES,
    add_common_args,
    apply_strategy,
    apply_thread_policy,
    load_config,
)


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
        '--amp',
        action='store_true',
        help='mixed precision: fp16 autocast + loss scaling on a GPU, bf16 autocast '
        'on a CPU with native bf16 (AVX512-BF16/AMX/Arm BF16); an error otherwise',
    )
    parser.add_argument(
        '--threads',
        default=None,
        help='intra-op threads: "auto" (from the usable cores, the loader workers '
        'and the load of other processes) or a number; overrides the config key '
        '"threads" (default auto)',
    )
    parser.add_argument(
        '--strategy',
        choices=sorted(STRATEGIES),
        default=None,
        help='ddp: mmengine Runner (default); fsdp: FlexibleRunner + FSDPStrategy '
        '(parameters, gradients and optimizer state sharded across processes)',
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
        cfg.optim_wrapper.type = 'AutoAmpOptimWrapper'
        cfg.optim_wrapper.setdefault('loss_scale', 'dynamic')
    apply_thread_policy(cfg, args.threads)
    runner_cls = apply_strategy(cfg, args.strategy)
    if args.auto_scale_lr:
        cfg.setdefault('auto_scale_lr', {})['enable'] = True
    if args.resume == 'auto':
        cfg.resume, cfg.load_from = True, None
    elif args.resume is not None:
        cfg.resume, cfg.load_from = True, args.resume

    runner = runner_cls.from_cfg(cfg)
    runner.train()
    if runner.rank == 0:
        print(
            f'[cxr_plugins] checkpoints: {runner.work_dir}\n'
            f'[cxr_plugins] logs: {runner.log_dir}',
            flush=True,
        )


if __name__ == '__main__':
    main()
