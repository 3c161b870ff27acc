"""ROC curves from the ``predictions.csv`` that ``MultiLabelAUC(out_dir=...)`` writes.

Example::

    python tools/analysis/plot_roc.py \\
        work_dirs/demo/classification/test_outputs/predictions.csv \\
        --out-dir work_dirs/demo/classification/roc --per-class

Writes ``roc_all.png`` (every class in one figure, AUC in the legend) and, with
``--per-class``, one ``roc_<class>.png`` per class; prints the per-class AUCs.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from cxr_plugins.visualization.curves import (
    read_predictions_csv,
    roc_overview,
    save_roc_curves,
)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument('predictions', type=Path, help='predictions.csv')
    parser.add_argument('--out-dir', type=Path, required=True)
    parser.add_argument(
        '--per-class', action='store_true', help='also one figure per class'
    )
    args = parser.parse_args(argv)
    names, scores, targets = read_predictions_csv(args.predictions)
    args.out_dir.mkdir(parents=True, exist_ok=True)
    figure, aucs = roc_overview(scores, targets, names)
    figure.savefig(args.out_dir / 'roc_all.png', dpi=120)
    if args.per_class:
        save_roc_curves(scores, targets, names, args.out_dir)
    for name, auc in aucs.items():
        print(f'{name:<22s} {auc:.4f}')
    skipped = sorted(set(names) - set(aucs))
    if skipped:
        print(f'AUC undefined (one label value only): {skipped}')
    print(f'wrote {args.out_dir / "roc_all.png"}')
    return 0


if __name__ == '__main__':
    sys.exit(main())
