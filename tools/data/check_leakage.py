"""Check that split lists share no patient (or, for bare image ids, no image).

Examples::

    python tools/data/check_leakage.py --scheme nih \\
        --data-entry data/nih/Data_Entry_2017_v2020.csv.gz \\
        data/nih/mrm_splits/{train_list,val_list,test_list}.txt
    python tools/data/check_leakage.py --scheme image \\
        data/siim/mrm_splits/{train_list,val_list,test_list}.txt

Prints the number of shared ids for every pair of lists and exits with 1 if
any pair overlaps.
"""

from __future__ import annotations

import argparse
import sys

import pandas as pd

from cxr_plugins.datasets.leakage import ID_SCHEMES, find_overlaps, ids_from_list


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument('lists', nargs='+', help='split lists (two or more)')
    parser.add_argument('--scheme', choices=ID_SCHEMES, required=True,
                        help='how a line names its patient')
    parser.add_argument('--data-entry', help='NIH Data_Entry CSV: take patient ids '
                        'from its Patient ID column instead of the file names')
    parser.add_argument('--show', type=int, default=5,
                        help='shared ids to print per pair')
    args = parser.parse_args(argv)
    if len(args.lists) < 2:
        parser.error('give at least two lists')
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    lookup = None
    if args.data_entry:
        entry = pd.read_csv(args.data_entry, usecols=['Image Index', 'Patient ID'],
                            dtype=str)
        lookup = entry.set_index('Image Index')['Patient ID']
    groups = {path: ids_from_list(path, args.scheme, lookup) for path in args.lists}
    for path, ids in groups.items():
        print(f'{path}: {len(ids)} lines, {len(set(ids))} unique ids')
    leaked = False
    for (a, b), shared in find_overlaps(groups).items():
        print(f'{a} & {b}: {shared.size} shared'
              + (f', e.g. {shared[:args.show].tolist()}' if shared.size else ''))
        leaked |= bool(shared.size)
    print('LEAKAGE FOUND' if leaked else 'no leakage')
    return 1 if leaked else 0


if __name__ == '__main__':
    sys.exit(main())
