"""Thread policy: a training step at 1, all and the policy's threads, as is and loaded.

Runs a ViT-S/16 fine-tuning ``train_step`` (batch 8, fused AdamW) with
``torch.set_num_threads`` at 1, at the usable cores, and at what
``cxr_plugins.apis.launch.plan_threads('auto', ...)`` chooses, first as the
machine is, then with an artificial competing load of ``--busy`` processes
spinning on a core each (started and stopped by this script). Wall seconds per
step, medians of round-robin repeats; the policy reads the load average, which
lags by about a minute, so the script waits ``--settle`` seconds after starting
the busy processes.
"""

from __future__ import annotations

import argparse
import copy
import os
import subprocess
import sys
import time
from pathlib import Path

import torch
from mmpretrain.registry import MODELS
from mmpretrain.utils import register_all_modules

import cxr_plugins  # noqa: F401  (registers CXRViT)
from benchmarks.bench_train_step import adamw, batch
from benchmarks.common import (
    machine_facts,
    machine_line,
    median,
    print_table,
    write_results,
)
from cxr_plugins.apis.launch import gemm_probe_seconds, plan_threads


def vit_small_step() -> callable:
    """ViT-S/16 + 14-way head ``train_step`` on a fixed batch of 8."""
    model = MODELS.build(
        dict(
            type='ImageClassifier',
            data_preprocessor=dict(
                type='ClsDataPreprocessor', mean=[128.9] * 3, std=[64.3] * 3
            ),
            backbone=dict(type='CXRViT', arch='small', img_size=224, patch_size=16),
            head=dict(
                type='MultiLabelLinearClsHead',
                num_classes=14,
                in_channels=384,
                loss=dict(type='CrossEntropyLoss', use_sigmoid=True),
            ),
        )
    ).train()
    wrapper = adamw(model, 1e-3, (0.9, 0.999))
    data = batch(8, multilabel=True)
    return lambda: model.train_step(copy.copy(data), wrapper)


def time_threads(step, counts: dict[str, int], repeats: int) -> dict[str, float]:
    samples = {name: [] for name in counts}
    for _ in range(repeats):
        for name, threads in counts.items():
            torch.set_num_threads(threads)
            start = time.perf_counter()
            step()
            samples[name].append(time.perf_counter() - start)
    return {name: median(values) for name, values in samples.items()}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        description=__doc__,
        epilog='example: python -m benchmarks.bench_threads --quick',
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument('--quick', action='store_true', help='fewer repeats')
    parser.add_argument('--busy', type=int, default=2, help='competing processes')
    parser.add_argument('--settle', type=float, default=60.0)
    parser.add_argument('--workers', type=int, default=1)
    parser.add_argument('--out', type=Path, help='folder for threads.csv/json')
    args = parser.parse_args(argv)
    register_all_modules(init_default_scope=True)
    repeats = 3 if args.quick else 6
    cores = len(os.sched_getaffinity(0))
    step = vit_small_step()
    step()  # warm-up
    rows = []
    for condition in ('as is', f'+{args.busy} busy processes'):
        busy = []
        if condition != 'as is':
            busy = [
                subprocess.Popen([sys.executable, '-c', 'while True: pass'])
                for _ in range(args.busy)
            ]
            time.sleep(args.settle)
        try:
            plan = plan_threads(
                'auto', args.workers, on_gpu=False, probe=gemm_probe_seconds
            )
            print(f'{condition}: {machine_line()}\npolicy: {plan.reason}', flush=True)
            counts = {'1 thread': 1, f'{cores} threads': cores}
            counts[f'policy ({plan.intra_op_threads})'] = plan.intra_op_threads
            seconds = time_threads(step, counts, repeats)
        finally:
            for process in busy:
                process.kill()
                process.wait()
        for name, wall in seconds.items():
            rows.append(
                dict(
                    condition=condition,
                    load_average=os.getloadavg()[0],
                    threads=name,
                    seconds_per_step=wall,
                    x_one_thread=seconds['1 thread'] / wall,
                )
            )
    header = list(rows[0])
    print_table(
        f'ViT-S/16 train_step, batch 8, median of {repeats}',
        header,
        [[row[key] for key in header] for row in rows],
    )
    if args.out:
        write_results(args.out / 'threads', rows, machine_facts())


if __name__ == '__main__':
    main()
