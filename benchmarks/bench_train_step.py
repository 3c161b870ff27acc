"""Training step: images/s and achieved FLOP/s beside this machine's GEMM rate.

In one process with ``torch.set_num_threads(2)``:

- ``GEMM``: best of N ``torch.mm`` of two 2048 x 2048 fp32 matrices, the
  practical compute limit of the CPU, and of 512 x 512 bf16 ones: on a CPU
  without AVX-512-BF16/AMX bf16 matmuls are dozens of times slower than fp32,
  so bf16 autocast is not a training variant here (it is on GPUs).
- ``MAE ViT-B/16 pretraining``: mmpretrain's stock ``MAE`` built from the model
  dict of mmpretrain's own ``mae/mae_vit-base-p16_8xb512-amp-coslr-300e_in1k.py``
  (its AdamW settings, plain ``OptimWrapper``: its AMP wrapper needs CUDA) beside
  ours (``configs/pretrain/mae/mae_vit-base-p16_dec512d8b_8xb256-800e_nih-
  chexpert-mimic.py``, mask ratio set to 0.75 as stock) with a fused AdamW.
- ``ViT-B/16 fine-tuning``: ``CXRViT`` arch base + 14-way multi-label linear head
  (BCE), the same optimizer variants.

A step is ``model.train_step`` (data preprocessor, forward, backward, AdamW
update), as the mmengine Runner calls it. FLOPs per step are counted by
``torch.utils.flop_counter.FlopCounterMode`` (matmuls, convolutions and
attention; element-wise work is not counted, so the FLOP/s are those of the
useful GEMM work). Variants run round-robin; tables give medians. Because the
machine may be shared, efficiency is also given per process-CPU-second: step
FLOPs / CPU seconds of the step against a GEMM's FLOPs / CPU seconds timed
just before it, which does not depend on the share of the cores we got.
"""

from __future__ import annotations

import argparse
import copy
import time
from collections.abc import Callable
from pathlib import Path

import mmpretrain
import torch
from mmengine.config import Config
from mmengine.optim import OptimWrapper
from mmpretrain.registry import MODELS
from mmpretrain.structures import DataSample
from mmpretrain.utils import register_all_modules
from torch.utils.flop_counter import FlopCounterMode

import cxr_plugins  # noqa: F401  (registers CXRViT, CXRMAE)
from benchmarks.common import REPO_ROOT, machine_line, median, print_table

STOCK_MAE_CONFIG = (
    Path(mmpretrain.__file__).parent
    / '.mim'
    / 'configs'
    / 'mae'
    / 'mae_vit-base-p16_8xb512-amp-coslr-300e_in1k.py'
)
OUR_MAE_CONFIG = (
    REPO_ROOT
    / 'configs'
    / 'pretrain'
    / 'mae'
    / 'mae_vit-base-p16_dec512d8b_8xb256-800e_nih-chexpert-mimic.py'
)
NUM_CLASSES = 14
REFERENCE_GEMM = 1024  # side of the GEMM timed beside every step


def gemm_seconds(dtype: torch.dtype, size: int, repeats: int) -> tuple[float, float]:
    """Best-of-``repeats`` (wall, process CPU) seconds of one square matmul."""
    a = torch.randn(size, size).to(dtype)
    b = torch.randn(size, size).to(dtype)
    torch.mm(a, b)
    best_wall = best_cpu = float('inf')
    for _ in range(repeats):
        wall, cpu = time.perf_counter(), time.process_time()
        torch.mm(a, b)
        best_wall = min(best_wall, time.perf_counter() - wall)
        best_cpu = min(best_cpu, time.process_time() - cpu)
    return best_wall, best_cpu


def mae_model(config: Path) -> torch.nn.Module:
    """The MAE model of ``config`` at mask ratio 0.75 and 224 px."""
    model_cfg = copy.deepcopy(Config.fromfile(str(config)).model)
    model_cfg.backbone.mask_ratio = 0.75
    return MODELS.build(model_cfg)


def finetune_model() -> torch.nn.Module:
    """CXRViT-B/16 + 14-way multi-label linear head, BCE loss."""
    return MODELS.build(
        dict(
            type='ImageClassifier',
            data_preprocessor=dict(
                type='ClsDataPreprocessor',
                mean=[128.9] * 3,
                std=[64.3] * 3,
                to_rgb=False,
            ),
            backbone=dict(
                type='CXRViT',
                arch='base',
                img_size=224,
                patch_size=16,
                drop_path_rate=0.1,
            ),
            head=dict(
                type='MultiLabelLinearClsHead',
                num_classes=NUM_CLASSES,
                in_channels=768,
                loss=dict(type='CrossEntropyLoss', use_sigmoid=True),
            ),
        )
    )


def batch(size: int, multilabel: bool) -> dict:
    """A uint8 image batch as ``default_collate`` hands it to ``train_step``."""
    generator = torch.Generator().manual_seed(0)
    inputs = torch.randint(
        0, 256, (size, 3, 224, 224), dtype=torch.uint8, generator=generator
    )
    samples = []
    for _ in range(size):
        sample = DataSample()
        if multilabel:
            sample.set_gt_score(
                (torch.rand(NUM_CLASSES, generator=generator) < 0.2).float()
            )
        samples.append(sample)
    return dict(inputs=inputs, data_samples=samples)


def adamw(
    model: torch.nn.Module, lr: float, betas: tuple[float, float], **kwargs
) -> OptimWrapper:
    return OptimWrapper(
        torch.optim.AdamW(
            model.parameters(), lr=lr, betas=betas, weight_decay=0.05, **kwargs
        )
    )


def step_fn(
    model: torch.nn.Module, wrapper: OptimWrapper, data: dict
) -> Callable[[], None]:
    """One Runner training iteration."""

    def run() -> None:
        model.train_step(copy.copy(data), wrapper)

    return run


def count_flops(run: Callable[[], None]) -> int:
    """FLOPs of one step (also serves as that variant's warm-up)."""
    counter = FlopCounterMode(display=False)
    with counter:
        run()
    return counter.get_total_flops()


def measure(
    variants: dict[str, Callable[[], None]], repeats: int, gemm_flops: float
) -> dict[str, tuple[float, float, float]]:
    """Per variant, medians over round-robin repeats of: wall seconds per step,
    process-CPU seconds per step, and the FLOP per CPU-second of a
    ``REFERENCE_GEMM`` fp32 GEMM timed just before it (so that load changes
    on a shared machine cancel out).

    Variants must be warmed up already.
    """
    samples = {name: [] for name in variants}
    for _ in range(repeats):
        for name, run in variants.items():
            _, gemm_cpu = gemm_seconds(torch.float32, REFERENCE_GEMM, 2)
            wall, cpu = time.perf_counter(), time.process_time()
            run()
            samples[name].append(
                (
                    time.perf_counter() - wall,
                    time.process_time() - cpu,
                    gemm_flops / gemm_cpu,
                )
            )
    return {
        name: tuple(median(column) for column in zip(*values))
        for name, values in samples.items()
    }


def profile_table(run: Callable[[], None], top: int = 8) -> list[tuple]:
    """Share of self CPU time per operator over one step."""
    with torch.profiler.profile(
        activities=[torch.profiler.ProfilerActivity.CPU]
    ) as profiler:
        run()
    events = profiler.key_averages()
    total = sum(event.self_cpu_time_total for event in events)
    ranked = sorted(events, key=lambda event: -event.self_cpu_time_total)[:top]
    return [
        (event.key, event.count, 100 * event.self_cpu_time_total / total)
        for event in ranked
    ]


def variants_for(
    build: Callable[[], torch.nn.Module],
    data: dict,
    lr: float,
    betas: tuple[float, float],
    names: tuple[str, ...],
) -> dict[str, Callable[[], None]]:
    """Optimizer / precision variants of one model (fresh model per variant)."""
    fused = {'fp32, AdamW (for-loop)': False, 'fp32, AdamW fused': True}
    variants = {}
    for name in names:
        model = build().train()
        kwargs = dict(fused=True) if fused[name] else {}
        variants[name] = step_fn(model, adamw(model, lr, betas, **kwargs), data)
    return variants


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument('--quick', action='store_true', help='batch 2, fewer steps')
    parser.add_argument('--batch-size', type=int)
    parser.add_argument(
        '--compile',
        action='store_true',
        help='also time torch.compile of the fine-tuning model',
    )
    args = parser.parse_args()
    torch.set_num_threads(2)
    torch.manual_seed(0)
    register_all_modules(init_default_scope=True)
    batch_size = args.batch_size or (2 if args.quick else 8)
    repeats = 2 if args.quick else 3
    print(f'Training step benchmark, 2 threads, batch {batch_size} | {machine_line()}')

    gemm_rows = []
    for dtype, size in (
        (torch.float32, 2048),
        (torch.float32, REFERENCE_GEMM),
        (torch.bfloat16, 512),
    ):
        wall, cpu = gemm_seconds(dtype, size, 3 if dtype == torch.float32 else 2)
        gemm_rows.append(
            (str(dtype), size, 2 * size**3 / wall / 1e9, 2 * size**3 / cpu / 1e9)
        )
    print_table(
        'GEMM rate, torch.mm, best of N',
        ['dtype', 'side', 'GFLOP/s (wall)', 'GFLOP/s per CPU-second'],
        gemm_rows,
    )
    gemm_flops = 2 * REFERENCE_GEMM**3

    mae_data = batch(batch_size, multilabel=False)
    cls_data = batch(batch_size, multilabel=True)
    mae_lr, mae_betas = 1.5e-4 * 4096 / 256, (0.9, 0.95)
    stock = mae_model(STOCK_MAE_CONFIG).train()
    mae_variants = {
        'stock mmpretrain MAE, fp32, AdamW (for-loop)': step_fn(
            stock, adamw(stock, mae_lr, mae_betas), mae_data
        )
    }
    ours = variants_for(
        lambda: mae_model(OUR_MAE_CONFIG),
        mae_data,
        mae_lr,
        mae_betas,
        ('fp32, AdamW fused',),
    )
    mae_variants.update({f'ours (CXRMAE), {k}': v for k, v in ours.items()})
    cls_variants = variants_for(
        finetune_model,
        cls_data,
        1e-3,
        (0.9, 0.999),
        ('fp32, AdamW (for-loop)', 'fp32, AdamW fused'),
    )
    if args.compile:
        model = finetune_model().train()
        model.backbone = torch.compile(model.backbone)
        compiled = step_fn(
            model, adamw(model, 1e-3, (0.9, 0.999), fused=True), cls_data
        )
        start = time.perf_counter()
        compiled()
        print(
            f'torch.compile of the ViT-B backbone: first step '
            f'{time.perf_counter() - start:.0f} s'
        )
        cls_variants['fp32, AdamW fused, torch.compile'] = compiled

    rows, profile = [], None
    for task, variants in (
        ('MAE ViT-B/16 pretraining', mae_variants),
        ('ViT-B/16 fine-tuning', cls_variants),
    ):
        names = list(variants)
        flops = count_flops(variants[names[0]])
        for name in names[1:]:
            if task.startswith('ViT') and name == 'fp32, AdamW fused':
                profile = profile_table(variants[name])
            else:
                variants[name]()
        figures = measure(variants, repeats, gemm_flops)
        baseline_wall = figures[names[0]][0]
        for name, (wall, cpu, gemm_rate_cpu) in figures.items():
            rows.append(
                (
                    task,
                    name,
                    batch_size / wall,
                    flops / wall / 1e9,
                    flops / cpu / 1e9,
                    100 * flops / cpu / gemm_rate_cpu,
                    baseline_wall / wall,
                )
            )
    print_table(
        f'train_step, median of {repeats} round-robin steps (FLOPs: '
        'FlopCounterMode, GEMM-type ops)',
        [
            'model',
            'variant',
            'images/s',
            'GFLOP/s (wall)',
            'GFLOP/s per CPU-s',
            '% of fp32 GEMM (per CPU-s)',
            'x first row (wall)',
        ],
        rows,
    )
    print_table(
        'where a ViT-B fine-tuning step spends its time (fp32, fused AdamW)',
        ['operator', 'calls', '% self CPU'],
        profile,
    )


if __name__ == '__main__':
    main()
