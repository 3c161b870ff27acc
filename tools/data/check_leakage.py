"""Check that split lists share no patient (or, for bare image ids, no image).

Examples::

    python tools/data/check_leakage.py --scheme nih \\
        --data-entry data/nih/Data_Entry_2017_v2020.csv.gz \\
        data/nih/mrm_splits/{train_list,val_list,test_list}.txt
    python tools/data/check_leakage.py --scheme image \\
        data/siim/mrm_splits/{train_list,val_list,test_list}.txt

Prints the number of shared ids for every pair of lists and exits with 1 if
any pair overlaps. A list given twice, an empty list, a blank line, a file
that is not UTF-8 or a Data_Entry without its columns is an error naming the
file (exit 2).
"""

from __future__ import annotations

import argparse
import os
import sys

from cxr_plugins.datasets.leakage import ID_SCHEMES, find_overlaps, ids_from_list
from cxr_plugins.datasets.patient_ids import patient_column
from cxr_plugins.datasets.tables import LabelTableError, read_csv_table


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument('lists', nargs='+', help='split lists (two or more)')
    parser.add_argument(
        '--scheme',
        choices=ID_SCHEMES,
        required=True,
        help='how a line names its patient',
    )
    parser.add_argument(
        '--data-entry',
        help='NIH Data_Entry CSV: take patient ids '
        'from its Patient ID column instead of the file names',
    )
    parser.add_argument(
        '--show', type=int, default=5, help='shared ids to print per pair'
    )
    args = parser.parse_args(argv)
    if len(args.lists) < 2:
        parser.error('give at least two lists')
    real = [os.path.realpath(path) for path in args.lists]
    for i, path in enumerate(real):
        if path in real[:i]:
            parser.error(f'{args.lists[i]} is given twice')
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    try:
        lookup = None
        if args.data_entry:
            entry = read_csv_table(
                args.data_entry, ['Image Index', 'Patient ID'], dtype=str
            )
            entry['Patient ID'] = patient_column(args.data_entry, entry, 'Patient ID')
            lookup = entry.set_index('Image Index')['Patient ID']
        groups = {path: ids_from_list(path, args.scheme, lookup) for path in args.lists}
    except (LabelTableError, FileNotFoundError) as err:
        print(f'error: {err}', file=sys.stderr)
        return 2
    for path, ids in groups.items():
        print(f'{path}: {len(ids)} lines, {len(set(ids))} unique ids')
    leaked = False
    for (a, b), shared in find_overlaps(groups).items():
        print(
            f'{a} & {b}: {shared.size} shared'
            + (f', e.g. {shared[: args.show].tolist()}' if shared.size else '')
        )
        leaked |= bool(shared.size)
    print('LEAKAGE FOUND' if leaked else 'no leakage')
    return 1 if leaked else 0


if __name__ == '__main__':
    sys.exit(main())
