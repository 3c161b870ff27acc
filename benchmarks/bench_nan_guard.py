"""NaNGuardHook's cost per training step, against the step itself.

The hook (``cxr_plugins/engine/hooks/nan_guard.py``, in every shipped
``default_runtime``) copies model + optimizer + scheduler state before a step
(every ``snapshot_interval`` steps), checks the gradient norm before the
optimizer step and every parameter after it. On a GPU the copy is a
device-to-device copy; on a CPU it is a memcpy of the whole state, which is
what this script measures: CXRViT-S/16 and -B/16 14-label fine-tuning,
``model.train_step`` with fused AdamW at batch 8, 224 px, 2 threads, beside the
hook's own work on the same model (round-robin repeats, medians).
"""

from __future__ import annotations

import argparse
import copy
from pathlib import Path
from types import SimpleNamespace

import torch
from mmengine.optim import OptimWrapper
from mmpretrain.registry import MODELS
from mmpretrain.utils import register_all_modules

import cxr_plugins  # noqa: F401  (registers CXRViT, NaNGuardHook)
from benchmarks.bench_train_step import NUM_CLASSES, batch
from benchmarks.common import (
    machine_facts,
    machine_line,
    median,
    print_table,
    timed,
    write_results,
)
from cxr_plugins.engine.hooks.nan_guard import (
    NaNGuardHook,
    all_parameters_finite,
    gradient_norm,
)


def classifier(arch: str, width: int) -> torch.nn.Module:
    """CXRViT ``arch`` + 14-way multi-label linear head (BCE)."""
    return MODELS.build(
        dict(
            type='ImageClassifier',
            data_preprocessor=dict(
                type='ClsDataPreprocessor', mean=[128.9] * 3, std=[64.3] * 3
            ),
            backbone=dict(type='CXRViT', arch=arch, img_size=224, patch_size=16),
            head=dict(
                type='MultiLabelLinearClsHead',
                num_classes=NUM_CLASSES,
                in_channels=width,
                loss=dict(type='CrossEntropyLoss', use_sigmoid=True),
            ),
        )
    )


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        description=__doc__,
        epilog='example: python -m benchmarks.bench_nan_guard --quick',
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument('--quick', action='store_true', help='fewer repeats')
    parser.add_argument('--out', type=Path, help='folder for nan_guard.csv/json')
    args = parser.parse_args(argv)
    register_all_modules(init_default_scope=True)
    torch.set_num_threads(2)
    repeats = 3 if args.quick else 6
    print(machine_line(), flush=True)
    rows = []
    for arch, width in (('small', 384), ('base', 768)):
        model = classifier(arch, width)
        optimizer = torch.optim.AdamW(model.parameters(), lr=1e-4, fused=True)
        wrapper = OptimWrapper(optimizer)
        data = batch(8, multilabel=True)
        hook = NaNGuardHook()
        runner = SimpleNamespace(
            model=model, optim_wrapper=wrapper, param_schedulers=[], iter=0, epoch=0
        )

        def step() -> None:
            model.train_step(copy.copy(data), wrapper)  # noqa: B023

        def snapshot() -> None:
            hook._snapshot(runner)  # noqa: B023

        def checks() -> None:
            gradient_norm(model.parameters())  # noqa: B023
            all_parameters_finite(model)  # noqa: B023

        step()  # warm-up; creates the AdamW state the snapshot copies
        times = {'step': [], 'snapshot': [], 'checks': []}
        for _ in range(repeats):
            for name, run in (
                ('step', step),
                ('snapshot', snapshot),
                ('checks', checks),
            ):
                times[name].append(timed(run))
        step_s, snap_s, check_s = (median(times[k]) for k in times)
        megabytes = sum(p.numel() for p in model.parameters()) * 4 * 3 / 2**20
        rows.append(
            dict(
                model=f'CXRViT-{arch[0].upper()}/16',
                state_MiB=round(megabytes),
                step_s=round(step_s, 3),
                snapshot_s=round(snap_s, 3),
                checks_s=round(check_s, 4),
                overhead_interval_1=f'{100 * (snap_s + check_s) / step_s:.1f} %',
                overhead_interval_10=f'{100 * (snap_s / 10 + check_s) / step_s:.1f} %',
            )
        )
    print_table(
        'NaNGuardHook per step (CPU, 2 threads, batch 8, 224 px)',
        list(rows[0]),
        [list(r.values()) for r in rows],
    )
    if args.out:
        write_results(args.out / 'nan_guard', rows, machine_facts())


if __name__ == '__main__':
    main()
