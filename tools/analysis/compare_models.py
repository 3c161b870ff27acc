"""Compare two models on the same test set: AUC differences, paired CIs, DeLong.

Example::

    python tools/test.py CONFIG_A CKPT_A --out-dir work_dirs/a_test
    python tools/test.py CONFIG_B CKPT_B --out-dir work_dirs/b_test
    python tools/analysis/compare_models.py \\
        work_dirs/a_test/predictions.csv work_dirs/b_test/predictions.csv \\
        --bootstrap 1000 --out work_dirs/a_vs_b.csv

Both files must hold the same images in the same order with the same labels
(the first mismatch is named, nothing is compared otherwise). Prints, per
class and for the mean AUC, the difference A - B with a paired bootstrap
interval (patients resampled when the files carry ``patient_id``), DeLong's
test for correlated ROC curves and Holm-adjusted p-values over the classes.
"""

from __future__ import annotations

import argparse
import csv
import os
import sys
from pathlib import Path

import numpy as np

from cxr_plugins.evaluation.metrics.comparison import (
    compare_predictions,
    read_prediction_table,
)


def _pct(value: float) -> str:
    return 'n/a' if np.isnan(value) else f'{100 * value:+.2f}'


def format_comparison(result: dict, label_a: str, label_b: str) -> str:
    """The printed table (AUCs and differences in percentage points)."""
    boot = result['bootstrap']
    unit = result['resample_unit']
    lines = [
        f'A = {label_a}\nB = {label_b}',
        f'{result["num_images"]} images'
        + (f', {result["num_patients"]} patients' if result['num_patients'] else '')
        + (
            f'; {100 * result["ci_level"]:.0f}% CI of A - B from {boot} paired '
            f'bootstrap resamples of {unit}s'
            if boot
            else ''
        ),
        f'{"class":<22}{"AUC A":>8}{"AUC B":>8}{"A - B":>8}  {"CI":<18}'
        f'{"valid":>6}{"DeLong z":>10}{"p":>10}{"p Holm":>10}',
    ]
    for c, name in enumerate(result['names']):
        interval = (
            f'[{_pct(result["low"][c])}, {_pct(result["high"][c])}]' if boot else '-'
        )
        valid = str(result['valid'][c]) if boot else '-'
        lines.append(
            f'{name:<22}{100 * result["auc_a"][c]:>8.2f}'
            f'{100 * result["auc_b"][c]:>8.2f}'
            f'{_pct(result["difference"][c]):>8}  {interval:<18}{valid:>6}'
            f'{result["z"][c]:>10.3f}{result["p"][c]:>10.4g}{result["p_holm"][c]:>10.4g}'
        )
    mean = result['mean']
    interval = f'[{_pct(mean["low"])}, {_pct(mean["high"])}]' if boot else '-'
    lines.append(
        f'{"mean AUC":<38}{_pct(mean["difference"]):>8}  {interval:<18}'
        f'{mean.get("valid", "-"):>6}'
    )
    tested = int((~np.isnan(result['p'])).sum())
    lines.append(
        f'Multiple comparisons: {tested} classes tested; "p Holm" is Holm\'s '
        'step-down adjustment (family-wise error over the classes); read the raw p '
        'of one class only if that class was chosen before looking. DeLong treats '
        'images as independent: with several images per patient its p is too '
        'small, and the patient-level bootstrap interval is the safer guide.'
    )
    return '\n'.join(lines)


def write_csv(path: Path, result: dict) -> None:
    """One row per class plus ``mean``; written to a temporary file, renamed."""
    temporary = path.with_name(f'.{path.name}.tmp')
    columns = [
        'auc_a',
        'auc_b',
        'difference',
        'low',
        'high',
        'valid',
        'z',
        'p',
        'p_holm',
    ]
    with open(temporary, 'w', newline='') as handle:
        writer = csv.writer(handle)
        writer.writerow(['class', *columns])
        for c, name in enumerate(result['names']):
            writer.writerow(
                [name] + [result[k][c] if k in result else '' for k in columns]
            )
        mean = result['mean']
        writer.writerow(
            [
                'mean',
                '',
                '',
                mean['difference'],
                mean.get('low', ''),
                mean.get('high', ''),
                mean.get('valid', ''),
                '',
                '',
                '',
            ]
        )
    os.replace(temporary, path)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument('predictions_a', type=Path, help='predictions.csv of model A')
    parser.add_argument('predictions_b', type=Path, help='predictions.csv of model B')
    parser.add_argument(
        '--bootstrap', type=int, default=1000, help='resamples (0 = none)'
    )
    parser.add_argument('--seed', type=int, default=0)
    parser.add_argument('--ci-level', type=float, default=0.95)
    parser.add_argument('--out', type=Path, help='also write the table as CSV')
    args = parser.parse_args(argv)
    table_a = read_prediction_table(args.predictions_a)
    table_b = read_prediction_table(args.predictions_b)
    try:
        result = compare_predictions(
            table_a, table_b, args.bootstrap, args.seed, args.ci_level
        )
    except ValueError as error:
        print(f'compare_models: refusing to compare: {error}', file=sys.stderr)
        return 2
    print(format_comparison(result, str(args.predictions_a), str(args.predictions_b)))
    if args.out:
        write_csv(args.out, result)
        print(f'wrote {args.out}')
    return 0


if __name__ == '__main__':
    sys.exit(main())
