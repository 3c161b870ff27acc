"""Measure copy-on-read growth of a dataset index in forked dataloader workers.

Example::

    python benchmarks/measure_worker_memory.py ../shared/data/labels

Builds NIHChestXray14 on the full Data_Entry table (no image loading), then
lets each of ``--workers`` forked DataLoader workers read every data info of
its shard and reports the growth of the worker's private dirty memory
(``/proc/self/smaps_rollup``) over that pass, to compare with the index size.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from torch.utils.data import DataLoader, Dataset

from cxr_plugins.datasets import NIHChestXray14


def private_dirty_kib() -> int:
    with open('/proc/self/smaps_rollup') as handle:
        return sum(
            int(line.split()[1]) for line in handle if line.startswith('Private_Dirty')
        )


class InfoPass(Dataset):
    """One item per worker: reads all infos of its shard, returns the growth."""

    def __init__(self, dataset, workers: int):
        self.dataset, self.workers = dataset, workers

    def __len__(self) -> int:
        return self.workers

    def __getitem__(self, shard: int) -> int:
        before = private_dirty_kib()
        for idx in range(shard, len(self.dataset), self.workers):
            self.dataset.get_data_info(idx)
        return private_dirty_kib() - before


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument('labels', type=Path, help='the shared data labels/ folder')
    parser.add_argument('--workers', type=int, default=2)
    args = parser.parse_args(argv)
    dataset = NIHChestXray14(
        data_root=str(args.labels / 'nih_cxr14'),
        ann_file='Data_Entry_2017_v2020.csv.gz',
    )
    table = dataset.table
    size = table.img_path.nbytes + table.patient_id.nbytes + table.labels.nbytes
    loader = DataLoader(
        InfoPass(dataset, args.workers),
        batch_size=None,
        num_workers=args.workers,
        multiprocessing_context='fork',
    )
    growth = [int(kib) for kib in loader]
    print(
        f'{len(dataset)} infos, index {size / 2**20:.1f} MiB; private dirty '
        f'growth per worker over a full pass: '
        + ', '.join(f'{kib / 1024:.1f} MiB' for kib in growth)
    )


if __name__ == '__main__':
    main()
