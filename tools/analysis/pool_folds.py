"""Evaluate a k-fold patient cross-fitting on its pooled out-of-fold predictions.

Example (5 folds of a config whose dataset has
``patient_split=dict(fold0=0.2, ..., fold4=0.2)``, as
``configs/demo/resnet18-w32_ema_1xb32-16e_nih14-demo-64px-5fold.py``; fold k
trains on the other four and tests on fold k)::

    CFG=configs/demo/resnet18-w32_ema_1xb32-16e_nih14-demo-64px-5fold.py
    for k in 0 1 2 3 4; do
        rest=$(printf 'fold%s\n' 0 1 2 3 4 | grep -v "fold$k" | paste -sd,)
        set -- "train_dataloader.dataset.split=[$rest]" \
            "test_dataloader.dataset.split=fold$k"
        python tools/train.py $CFG --work-dir cv/fold$k --cfg-options "$@"
        python tools/test.py $CFG cv/fold$k/epoch_16.pth --work-dir cv/fold$k \
            --out-dir cv/fold$k/test_outputs --cfg-options "$@"
    done
    python tools/analysis/pool_folds.py cv/fold*/test_outputs/predictions.csv \
        --out-dir cv/pooled --subset-classes Effusion Nodule

Every image is then predicted by the model that never saw its patient; the
pooled predictions of all patients get per-class and mean AUCs with patient
bootstrap intervals (``pooled/predictions.csv``, ``pooled/evaluation.json``).
Folds that share a patient, disagree on the classes or lack ``patient_id`` are
refused, naming the files.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from cxr_plugins.evaluation.metrics.pooled_folds import evaluate_pooled_folds


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        'predictions', type=Path, nargs='+', help='predictions.csv of each fold'
    )
    parser.add_argument('--out-dir', type=Path, required=True)
    parser.add_argument(
        '--subset-classes',
        nargs='*',
        default=(),
        help='classes of the extra subset mean (auc/mAUC_subset)',
    )
    parser.add_argument('--bootstrap', type=int, default=1000)
    parser.add_argument('--seed', type=int, default=0)
    args = parser.parse_args(argv)
    try:
        metrics = evaluate_pooled_folds(
            args.predictions,
            args.out_dir,
            subset_classes=args.subset_classes,
            bootstrap=args.bootstrap,
            seed=args.seed,
        )
    except (KeyError, ValueError) as error:
        print(f'pool_folds: {error}', file=sys.stderr)
        return 2
    print(f'auc/mAUC: {metrics["auc/mAUC"]:.2f}; written to {args.out_dir}')
    return 0


if __name__ == '__main__':
    sys.exit(main())
