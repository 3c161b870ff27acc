"""Dataset index: parse time and per-worker memory of the full label tables.

- Parse: wall seconds to build ``CheXpert`` (223,414 rows of the official
  ``train.csv``, all 14 classes) and ``NIHChestXray14`` (112,120 rows of
  ``Data_Entry_2017_v2020.csv``) from ``../shared/data/labels``.
- Sharing: the index is built once in the parent, then forked dataloader-style
  workers read every row through ``get_data_info`` (what ``__getitem__`` does
  before the pipeline). A Python list of dicts is copied page by page into each
  worker as reference counts change (copy-on-read); mmengine's
  ``serialize_data=True`` packs it into one numpy byte buffer that stays
  shared. Our datasets keep a columnar numpy ``LabelTable`` instead (no
  per-row Python objects, so ``serialize_data`` does not apply); the table
  compares it with mmengine ``BaseDataset`` holding the same rows as a list of
  dicts, ``serialize_data`` True and False, by each worker's USS (private
  memory) growth while iterating.
"""

from __future__ import annotations

import argparse
import gc
import multiprocessing
import time

import psutil
from mmengine.dataset import BaseDataset
from mmengine.registry import DefaultScope
from mmpretrain.registry import DATASETS

import cxr_plugins  # noqa: F401  (registers the datasets)
from benchmarks.common import SHARED_DATA, machine_line, median, print_table
from cxr_plugins.datasets.chexpert import CHEXPERT_CLASSES

LABELS = SHARED_DATA / 'labels'
DATASET_CFGS = {
    'CheXpert train.csv': dict(
        type='CheXpert',
        classes=CHEXPERT_CLASSES,
        data_prefix=dict(img_path=''),
        ann_file=str(LABELS / 'chexpert' / 'chexpert_train.csv.gz'),
    ),
    'NIH Data_Entry_2017_v2020.csv': dict(
        type='NIHChestXray14',
        data_prefix=dict(img_path='images'),
        ann_file=str(LABELS / 'nih_cxr14' / 'Data_Entry_2017_v2020.csv.gz'),
    ),
}
MIB = 2**20


class ListOfDictsIndex(BaseDataset):
    """mmengine's default index: the same rows as a Python list of dicts."""

    def __init__(self, rows: list[dict], serialize_data: bool) -> None:
        self._rows = rows
        super().__init__(ann_file='', serialize_data=serialize_data)
        del self._rows

    def load_data_list(self) -> list[dict]:
        return self._rows


def build(cfg: dict):
    with DefaultScope.overwrite_default_scope('mmpretrain'):
        return DATASETS.build(cfg)


def table_mib(dataset) -> float:
    """Bytes of the columnar ``LabelTable`` arrays."""
    table = dataset.table
    return (
        sum(array.nbytes for array in (table.img_path, table.patient_id, table.labels))
        / MIB
    )


def iterate_in_worker(dataset, queue) -> None:
    """Read every row as a worker would; report private memory before/after."""
    process = psutil.Process()
    before = process.memory_full_info()
    for index in range(len(dataset)):
        dataset.get_data_info(index)
    after = process.memory_full_info()
    queue.put(((after.uss - before.uss) / MIB, after.rss / MIB, after.uss / MIB))


def worker_growth(dataset, workers: int) -> list[tuple[float, float, float]]:
    """USS growth, RSS and USS (MiB) of each forked worker after a full pass."""
    context = multiprocessing.get_context('fork')
    queue = context.Queue()
    gc.collect()
    processes = [
        context.Process(target=iterate_in_worker, args=(dataset, queue))
        for _ in range(workers)
    ]
    for process in processes:
        process.start()
    results = [queue.get() for _ in processes]
    for process in processes:
        process.join()
        if process.exitcode != 0:
            raise RuntimeError(f'worker exited with {process.exitcode}')
    return results


VARIANTS = (
    'ours: columnar LabelTable',
    'BaseDataset list of dicts, serialize_data=False',
    'BaseDataset list of dicts, serialize_data=True',
)


def parent_with_index(cfg: dict, variant: str, workers: int, queue) -> None:
    """Build one index (and nothing else), then fork the workers."""
    dataset = build(cfg)
    if variant != VARIANTS[0]:
        rows = [dataset.get_data_info(index) for index in range(len(dataset))]
        dataset = ListOfDictsIndex(rows, serialize_data=variant == VARIANTS[2])
        del rows
    queue.put(worker_growth(dataset, workers))


def in_fresh_parent(cfg: dict, variant: str, workers: int) -> list[tuple]:
    """``worker_growth`` of ``variant`` in a forked parent holding only that index,
    so that the garbage collector of a worker touches no other index."""
    context = multiprocessing.get_context('fork')
    queue = context.Queue()
    parent = context.Process(
        target=parent_with_index, args=(cfg, variant, workers, queue)
    )
    parent.start()
    result = queue.get()
    parent.join()
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument('--quick', action='store_true', help='one parse, one worker')
    args = parser.parse_args()
    repeats = 1 if args.quick else 2
    workers = 1 if args.quick else 2
    print(f'Dataset index benchmark | {machine_line()}')
    parse_rows, memory_rows = [], []
    for name, cfg in DATASET_CFGS.items():
        seconds = []
        for _ in range(repeats):
            start = time.perf_counter()
            dataset = build(cfg)
            seconds.append(time.perf_counter() - start)
        parse_rows.append((name, len(dataset), median(seconds), table_mib(dataset)))
        del dataset
        for variant in VARIANTS:
            growth = in_fresh_parent(cfg, variant, workers)
            memory_rows.append(
                (
                    name,
                    variant,
                    workers,
                    median([g[0] for g in growth]),
                    median([g[1] for g in growth]),
                )
            )
    print_table(
        f'parse (median of {repeats})',
        ['label table', 'rows', 'seconds', 'LabelTable MiB'],
        parse_rows,
    )
    print_table(
        'forked workers reading every row (get_data_info)',
        ['label table', 'index', 'workers', 'USS growth MiB/worker', 'RSS MiB/worker'],
        memory_rows,
    )


if __name__ == '__main__':
    main()
