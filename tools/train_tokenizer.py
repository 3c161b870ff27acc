"""Train MRM's WordPiece report tokenizer offline with HF ``tokenizers``.

Zhou et al., MRM (https://arxiv.org/abs/2301.13155): WordPiece, vocab 30,000,
``[PAD]=0 [UNK]=1 [CLS]=2 [MASK]=3``, lowercase + NFKD + strip accents. Writes a
``tokenizers`` json loadable by ``MRMTokenizeReport``. No download happens.

Examples::

    python tools/train_tokenizer.py --iu-xray ../shared/data/labels/iu_xray_openi/NLMCXR_reports.tgz \
        --out work_dirs/tokenizer/iu_xray_wordpiece.json --vocab-size 5000
    python tools/train_tokenizer.py --csv data/mimic/training.csv --out mimic_wordpiece.json
"""  # noqa: E501

from __future__ import annotations

import argparse
from pathlib import Path

import pandas as pd

from cxr_plugins.datasets.image_report import load_iu_xray_reports
from cxr_plugins.datasets.text_tokenizer import train_report_tokenizer


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        '--csv',
        action='append',
        default=[],
        help='CSV with a report column (repeatable)',
    )
    parser.add_argument(
        '--column',
        default='report_content',
        help='report column of --csv files (covid metadata: clinical_notes)',
    )
    parser.add_argument(
        '--iu-xray',
        action='append',
        default=[],
        help='IU-Xray NLMCXR_reports.tgz (repeatable)',
    )
    parser.add_argument('--out', required=True, help='output tokenizer json')
    parser.add_argument('--vocab-size', type=int, default=30000)
    parser.add_argument('--min-frequency', type=int, default=2)
    return parser.parse_args(argv)


def collect_reports(
    csv_files: list[str], column: str, iu_archives: list[str]
) -> list[str]:
    """Report strings from CSV columns and IU-Xray archives."""
    reports = []
    for path in csv_files:
        frame = pd.read_csv(path)
        if column not in frame.columns:
            raise KeyError(f'{path}: no column {column!r}; found {list(frame.columns)}')
        reports += [str(t) for t in frame[column].dropna() if str(t).strip()]
    for path in iu_archives:
        reports += load_iu_xray_reports(path)
    return reports


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    reports = collect_reports(args.csv, args.column, args.iu_xray)
    if not reports:
        raise SystemExit('no reports found: pass --csv and/or --iu-xray')
    tokenizer = train_report_tokenizer(reports, args.vocab_size, args.min_frequency)
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    tokenizer.save(str(out))
    print(
        f'trained on {len(reports)} reports: vocab {tokenizer.get_vocab_size()} '
        f'-> {out}'
    )


if __name__ == '__main__':
    main()
