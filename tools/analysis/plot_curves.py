"""Training curves (loss, lr, validation metrics) from mmengine's ``scalars.json``.

Example::

    python tools/analysis/plot_curves.py \\
        work_dirs/demo/classification/*/vis_data/scalars.json \\
        --out work_dirs/demo/classification/curves.png --series train/loss val/auc/mAUC
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from cxr_plugins.visualization.curves import read_scalars, training_curves


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument('scalars', type=Path, help='vis_data/scalars.json')
    parser.add_argument('--out', type=Path, required=True, help='output PNG')
    parser.add_argument(
        '--series',
        nargs='+',
        help='train/<name> or val/<name> (default: losses, lr and '
        'every validation metric)',
    )
    args = parser.parse_args(argv)
    scalars = read_scalars(args.scalars)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    training_curves(scalars, args.series).savefig(args.out, dpi=110)
    print(f'wrote {args.out}')
    return 0


if __name__ == '__main__':
    sys.exit(main())
