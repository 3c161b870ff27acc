"""Time the label-table parsing of the big chest X-ray tables.

Example::

    python benchmarks/time_label_parsing.py ../shared/data/labels --repeat 3

Prints, per table, the best wall time of building the dataset index (parse,
validate, split) and the bytes the columnar index holds.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

from cxr_plugins.datasets import CHEXPERT_CLASSES, CheXpert, NIHChestXray14


def cases(labels: Path) -> dict:
    nih, chexpert = labels / 'nih_cxr14', labels / 'chexpert'
    return {
        'NIH Data_Entry (112,120 rows)': lambda: NIHChestXray14(
            data_root=str(nih), ann_file='Data_Entry_2017_v2020.csv.gz'
        ),
        'NIH MRM train_list + Data_Entry': lambda: NIHChestXray14(
            data_root=str(nih),
            ann_file='mrm_splits/train_list.txt',
            data_entry='Data_Entry_2017_v2020.csv.gz',
        ),
        'CheXpert train.csv, 5 tasks (223,414 rows)': lambda: CheXpert(
            data_root=str(chexpert), ann_file='chexpert_train.csv.gz'
        ),
        'CheXpert train.csv, 14 labels, frontal': lambda: CheXpert(
            data_root=str(chexpert),
            ann_file='chexpert_train.csv.gz',
            classes=CHEXPERT_CLASSES,
            frontal_only=True,
        ),
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument('labels', type=Path, help='the shared data labels/ folder')
    parser.add_argument('--repeat', type=int, default=3)
    args = parser.parse_args(argv)
    for name, build in cases(args.labels).items():
        times = []
        for _ in range(args.repeat):
            start = time.perf_counter()
            dataset = build()
            times.append(time.perf_counter() - start)
        table = dataset.table
        size = table.img_path.nbytes + table.patient_id.nbytes + table.labels.nbytes
        print(
            f'{name}: {len(dataset)} images, best {min(times):.2f} s '
            f'(of {args.repeat}), index {size / 2**20:.1f} MiB'
        )


if __name__ == '__main__':
    main()
