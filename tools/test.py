"""Evaluate a checkpoint: ``python tools/test.py CONFIG CHECKPOINT [options]``.

Prints the metrics of ``test_evaluator`` (per-class tables where the metric
has them). ``--out-dir`` makes each metric that supports it write its
per-sample outputs there (predictions CSV and ROC curves for classification,
per-image Dice for segmentation); ``--show-dir`` writes segmentation overlays.

Example::

    python tools/test.py configs/demo/vit-demo-p8_1xb64-30e_nih14-demo-64px.py \\
        work_dirs/vit_demo/best_auc_mAUC_epoch_30.pth --out-dir work_dirs/vit_demo/test
"""

from __future__ import annotations

import argparse
import inspect
import os.path as osp

from mmengine.registry import METRICS
from mmengine.runner import Runner

from cxr_plugins.apis.launch import add_common_args, load_config


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument('config', help='config file')
    parser.add_argument('checkpoint', help='checkpoint to evaluate')
    parser.add_argument(
        '--out-dir', help='metrics that accept out_dir write their outputs here'
    )
    parser.add_argument(
        '--show-dir', help='segmentation: write prediction overlays here'
    )
    add_common_args(parser)
    return parser.parse_args(argv)


def _metric_accepts_out_dir(metric_cfg: dict, default_scope: str | None) -> bool:
    with METRICS.switch_scope_and_registry(default_scope) as registry:
        metric_cls = registry.get(metric_cfg['type'])
    if metric_cls is None:
        raise KeyError(
            f'test_evaluator: metric type {metric_cfg["type"]!r} is '
            f'not registered in scope {default_scope!r}'
        )
    return 'out_dir' in inspect.signature(metric_cls.__init__).parameters


def set_metric_out_dir(cfg, out_dir: str) -> list[str]:
    """Point ``out_dir`` of every test metric that accepts one at ``out_dir``."""
    evaluator = cfg.test_evaluator
    metrics = evaluator if isinstance(evaluator, list) else [evaluator]
    if isinstance(evaluator, dict) and 'metrics' in evaluator:
        metrics = evaluator['metrics']
        metrics = metrics if isinstance(metrics, list) else [metrics]
    updated = []
    for metric in metrics:
        if _metric_accepts_out_dir(metric, cfg.get('default_scope')):
            metric['out_dir'] = out_dir
            updated.append(metric['type'])
    return updated


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    cfg = load_config(args)
    cfg.load_from = args.checkpoint
    if args.out_dir:
        updated = set_metric_out_dir(cfg, args.out_dir)
        if not updated:
            print(
                f'[cxr_plugins] no test metric writes outputs; '
                f'--out-dir {args.out_dir} unused',
                flush=True,
            )
    if args.show_dir:
        hook = cfg.default_hooks.get('visualization')
        if hook is None or hook.get('type') != 'SegVisualizationHook':
            raise ValueError(
                '--show-dir needs a segmentation config '
                '(default_hooks.visualization=SegVisualizationHook)'
            )
        hook.update(draw=True, interval=1, show=False)
        cfg.visualizer.save_dir = osp.abspath(args.show_dir)

    runner = Runner.from_cfg(cfg)
    metrics = runner.test()
    if runner.rank == 0:
        print(
            f'[cxr_plugins] test metrics: {metrics}\n'
            f'[cxr_plugins] logs: {runner.log_dir}',
            flush=True,
        )


if __name__ == '__main__':
    main()
