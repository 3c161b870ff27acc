"""Evaluate a checkpoint: ``python tools/test.py CONFIG CHECKPOINT [options]``.

The checkpoint must fit the model: a missing, unexpected or mis-shaped key
stops the run (non-zero exit) with the keys named; ``--non-strict`` loads
what fits and prints what it skipped.

Prints the metrics of ``test_evaluator`` (per-class tables where the metric
has them). ``--out-dir`` makes each metric that supports it write its
per-sample outputs there (predictions CSV and ROC curves for classification,
per-image Dice for segmentation); ``--show-dir`` writes segmentation overlays
(ground truth | prediction on the radiograph, per-image Dice in the title).

Clinical evaluation (classification metrics ``MultiLabelAUC`` /
``CXRClsMetrics``): ``--operating-point youden`` (or ``sensitivity`` with
``--target-sensitivity 0.95``) first evaluates the checkpoint on the
validation split, fits one threshold per class there and writes
``<work_dir>/operating_points.json``, then reports sensitivity, specificity,
PPV and NPV with CIs at those thresholds on the test split; ``--thresholds
FILE`` applies a saved file instead. ``--report DIR`` writes one
self-contained ``DIR/report.html`` (tables with CIs, ROC / PR / reliability
grids, subgroups, operating points; Dice distribution and best / worst
overlays for segmentation).

Example::

    python tools/test.py \\
        configs/demo/vit-demo-p8_1xb64-30e_nih14-demo-64px.py \\
        CKPT --operating-point youden \\
        --report work_dirs/demo/classification/report \\
        --cfg-options test_evaluator.bootstrap=1000 \\
        "test_evaluator.subgroups=['sex','view','age_bin']"
"""

from __future__ import annotations

import argparse
import copy
import inspect
import os.path as osp
from pathlib import Path

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
        '--show-dir',
        help='segmentation: write one overlay per image here (ground truth | '
        'prediction, per-image Dice in the title)',
    )
    parser.add_argument(
        '--report', metavar='DIR', help='write one self-contained DIR/report.html'
    )
    parser.add_argument(
        '--operating-point',
        choices=['youden', 'sensitivity'],
        help='fit per-class thresholds on the validation split first, report '
        'sensitivity/specificity/PPV/NPV at them on test',
    )
    parser.add_argument(
        '--target-sensitivity',
        type=float,
        help='sensitivity to reach with --operating-point sensitivity, e.g. 0.95',
    )
    parser.add_argument(
        '--thresholds', help='apply the thresholds of this JSON (fitted on validation)'
    )
    add_common_args(parser)
    args = parser.parse_args(argv)
    if args.operating_point and args.thresholds:
        parser.error(
            '--operating-point fits thresholds; --thresholds loads them: pick one'
        )
    if (args.operating_point == 'sensitivity') != (args.target_sensitivity is not None):
        parser.error('--target-sensitivity goes with --operating-point sensitivity')
    return args


def _metric_accepts(metric_cfg: dict, option: str, default_scope: str | None) -> bool:
    with METRICS.switch_scope_and_registry(default_scope) as registry:
        metric_cls = registry.get(metric_cfg['type'])
    if metric_cls is None:
        raise KeyError(
            f'evaluator: metric type {metric_cfg["type"]!r} is '
            f'not registered in scope {default_scope!r}'
        )
    return option in inspect.signature(metric_cls.__init__).parameters


def set_metric_option(
    cfg, option: str, value: object, evaluator_key: str = 'test_evaluator'
) -> list[str]:
    """Set ``option`` on every metric of ``cfg[evaluator_key]`` that accepts it.

    Returns:
        The types of the metrics that were updated.
    """
    evaluator = cfg[evaluator_key]
    metrics = evaluator if isinstance(evaluator, list) else [evaluator]
    if isinstance(evaluator, dict) and 'metrics' in evaluator:
        metrics = evaluator['metrics']
        metrics = metrics if isinstance(metrics, list) else [metrics]
    updated = []
    for metric in metrics:
        if _metric_accepts(metric, option, cfg.get('default_scope')):
            metric[option] = value
            updated.append(metric['type'])
    return updated


def set_metric_out_dir(cfg, out_dir: str) -> list[str]:
    """Point ``out_dir`` of every test metric that accepts one at ``out_dir``."""
    return set_metric_option(cfg, 'out_dir', out_dir)


def _require(updated: list[str], flag: str, what: str) -> None:
    if not updated:
        raise ValueError(f'{flag}: no metric of the config accepts {what}')


def configure_clinical_options(cfg, args: argparse.Namespace) -> Path | None:
    """Apply --report / --show-dir / --operating-point / --thresholds to cfg.

    Returns:
        The thresholds file the validation pass will write, or ``None`` when
        no validation pass is needed.
    """
    # Configs often alias test_evaluator = val_evaluator: separate them so
    # test-only options do not leak into the validation pass.
    cfg.test_evaluator = copy.deepcopy(cfg.test_evaluator)
    if 'val_evaluator' in cfg and cfg.val_evaluator is not None:
        cfg.val_evaluator = copy.deepcopy(cfg.val_evaluator)
    if args.report:
        report = Path(args.report).resolve()
        stale = sorted((report / 'sections').glob('*.html'))
        for path in stale:
            path.unlink()
        if stale:
            print(
                f'[cxr_plugins] removed {len(stale)} old report section(s) in {report}'
            )
        _require(
            set_metric_option(cfg, 'report_dir', str(report)), '--report', 'report_dir'
        )
    if args.show_dir:
        _require(
            set_metric_option(cfg, 'show_dir', osp.abspath(args.show_dir)),
            '--show-dir',
            'show_dir (SIIMDice draws the overlays)',
        )
    if args.thresholds:
        _require(
            set_metric_option(cfg, 'thresholds_in', osp.abspath(args.thresholds)),
            '--thresholds',
            'thresholds_in',
        )
    if not args.operating_point:
        return None
    if not cfg.get('val_dataloader') or not cfg.get('val_evaluator'):
        raise ValueError('--operating-point needs val_dataloader and val_evaluator')
    path = Path(cfg.work_dir).resolve() / 'operating_points.json'
    options = dict(
        operating_point=args.operating_point,
        target_sensitivity=args.target_sensitivity,
        thresholds_out=str(path),
    )
    for option, value in options.items():
        _require(
            set_metric_option(cfg, option, value, 'val_evaluator'),
            '--operating-point',
            f'{option} in val_evaluator',
        )
    _require(
        set_metric_option(cfg, 'thresholds_in', str(path)),
        '--operating-point',
        'thresholds_in',
    )
    # The validation pass saves no checkpoint; CheckpointHook(save_best=...)
    # fails when val() runs without train() (mmengine 0.10.7, STACK.md item 8).
    cfg.setdefault('default_hooks', {})['checkpoint'] = None
    return path


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
    thresholds_file = configure_clinical_options(cfg, args)

    runner = Runner.from_cfg(cfg)
    if thresholds_file is not None:
        runner.val()
        if runner.rank == 0:
            print(
                f'[cxr_plugins] {args.operating_point} thresholds fitted on the '
                f'validation split: {thresholds_file}',
                flush=True,
            )
    metrics = runner.test()
    if runner.rank == 0:
        print(
            f'[cxr_plugins] test metrics: {metrics}\n'
            f'[cxr_plugins] logs: {runner.log_dir}',
            flush=True,
        )
        if args.report:
            from cxr_plugins.visualization.report import assemble_report

            page = assemble_report(
                args.report,
                f'Evaluation of {osp.basename(args.checkpoint)}',
                dict(
                    config=args.config,
                    checkpoint=args.checkpoint,
                    work_dir=cfg.work_dir,
                ),
                metrics,
            )
            print(f'[cxr_plugins] report: {page}', flush=True)


if __name__ == '__main__':
    main()
