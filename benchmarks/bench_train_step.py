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
useful GEMM work). Variants run round-robin; tables give medians.
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

STOCK_MAE_CONFIG = (Path(mmpretrain.__file__).parent / '.mim' / 'configs' / 'mae'
                    / 'mae_vit-base-p16_8xb512-amp-coslr-300e_in1k.py')
OUR_MAE_CONFIG = (REPO_ROOT / 'configs' / 'pretrain' / 'mae'
                  / 'mae_vit-base-p16_dec512d8b_8xb256-800e_nih-chexpert-mimic.py')
NUM_CLASSES = 14


def gemm_rate(dtype: torch.dtype, size: int, repeats: int) -> float:
    """Best-of-``repeats`` FLOP/s of one ``size`` square matmul."""
    a = torch.randn(size, size).to(dtype)
    b = torch.randn(size, size).to(dtype)
    torch.mm(a, b)
    best = float('inf')
    for _ in range(repeats):
        start = time.perf_counter()
        torch.mm(a, b)
        best = min(best, time.perf_counter() - start)
    return 2 * size**3 / best


def mae_model(config: Path) -> torch.nn.Module:
    """The MAE model of ``config`` at mask ratio 0.75 and 224 px."""
    model_cfg = copy.deepcopy(Config.fromfile(str(config)).model)
    model_cfg.backbone.mask_ratio = 0.75
    return MODELS.build(model_cfg)


def finetune_model() -> torch.nn.Module:
    """CXRViT-B/16 + 14-way multi-label linear head, BCE loss."""
    return MODELS.build(dict(
        type='ImageClassifier',
        data_preprocessor=dict(type='ClsDataPreprocessor', mean=[128.9] * 3,
                               std=[64.3] * 3, to_rgb=False),
        backbone=dict(type='CXRViT', arch='base', img_size=224, patch_size=16,
                      drop_path_rate=0.1),
        head=dict(type='MultiLabelLinearClsHead', num_classes=NUM_CLASSES,
                  in_channels=768,
                  loss=dict(type='CrossEntropyLoss', use_sigmoid=True))))


def batch(size: int, multilabel: bool) -> dict:
    """A uint8 image batch as ``default_collate`` hands it to ``train_step``."""
    generator = torch.Generator().manual_seed(0)
    inputs = torch.randint(0, 256, (size, 3, 224, 224), dtype=torch.uint8,
                           generator=generator)
    samples = []
    for _ in range(size):
        sample = DataSample()
        if multilabel:
            sample.set_gt_score(
                (torch.rand(NUM_CLASSES, generator=generator) < 0.2).float())
        samples.append(sample)
    return dict(inputs=inputs, data_samples=samples)


def adamw(model: torch.nn.Module, lr: float, betas: tuple[float, float],
          **kwargs) -> OptimWrapper:
    return OptimWrapper(torch.optim.AdamW(model.parameters(), lr=lr, betas=betas,
                                          weight_decay=0.05, **kwargs))


def step_fn(model: torch.nn.Module, wrapper: OptimWrapper, data: dict
            ) -> Callable[[], None]:
    """One Runner training iteration."""
    def run() -> None:
        model.train_step(copy.copy(data), wrapper)
    return run


def count_flops(run: Callable[[], None]) -> int:
    counter = FlopCounterMode(display=False)
    with counter:
        run()
    return counter.get_total_flops()


def measure(variants: dict[str, Callable[[], None]], repeats: int
            ) -> dict[str, float]:
    """Median seconds per step of each variant, run round-robin after a warm-up."""
    for run in variants.values():
        run()
    times = {name: [] for name in variants}
    for _ in range(repeats):
        for name, run in variants.items():
            start = time.perf_counter()
            run()
            times[name].append(time.perf_counter() - start)
    return {name: median(values) for name, values in times.items()}


def profile_table(run: Callable[[], None], top: int = 8) -> list[tuple]:
    """Share of self CPU time per operator over one step."""
    with torch.profiler.profile(activities=[torch.profiler.ProfilerActivity.CPU]
                                ) as profiler:
        run()
    events = profiler.key_averages()
    total = sum(event.self_cpu_time_total for event in events)
    ranked = sorted(events, key=lambda event: -event.self_cpu_time_total)[:top]
    return [(event.key, event.count, 100 * event.self_cpu_time_total / total)
            for event in ranked]


def variants_for(build: Callable[[], torch.nn.Module], data: dict, lr: float,
                 betas: tuple[float, float], names: tuple[str, ...]
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
    parser.add_argument('--compile', action='store_true',
                        help='also time torch.compile of the fine-tuning model')
    args = parser.parse_args()
    torch.set_num_threads(2)
    torch.manual_seed(0)
    register_all_modules(init_default_scope=True)
    batch_size = args.batch_size or (2 if args.quick else 8)
    repeats = 2 if args.quick else 3
    print(f'Training step benchmark, 2 threads, batch {batch_size} | {machine_line()}')

    gemm = {'fp32': gemm_rate(torch.float32, 2048, 3 if args.quick else 5),
            'bf16': gemm_rate(torch.bfloat16, 512, 2)}
    print_table('GEMM rate, torch.mm best of N (fp32 2048, bf16 512)',
                ['dtype', 'GFLOP/s', 'x fp32'],
                [(k, v / 1e9, v / gemm['fp32']) for k, v in gemm.items()])

    mae_data = batch(batch_size, multilabel=False)
    cls_data = batch(batch_size, multilabel=True)
    mae_lr, mae_betas = 1.5e-4 * 4096 / 256, (0.9, 0.95)
    stock = mae_model(STOCK_MAE_CONFIG).train()
    mae_variants = {'stock mmpretrain MAE, fp32, AdamW (for-loop)': step_fn(
        stock, adamw(stock, mae_lr, mae_betas), mae_data)}
    ours = variants_for(lambda: mae_model(OUR_MAE_CONFIG), mae_data, mae_lr,
                        mae_betas, ('fp32, AdamW fused',))
    mae_variants.update({f'ours (CXRMAE), {k}': v for k, v in ours.items()})
    cls_variants = variants_for(
        finetune_model, cls_data, 1e-3, (0.9, 0.999),
        ('fp32, AdamW (for-loop)', 'fp32, AdamW fused'))
    if args.compile:
        model = finetune_model().train()
        model.backbone = torch.compile(model.backbone)
        compiled = step_fn(model, adamw(model, 1e-3, (0.9, 0.999), fused=True),
                           cls_data)
        start = time.perf_counter()
        compiled()
        print(f'torch.compile of the ViT-B backbone: first step '
              f'{time.perf_counter() - start:.0f} s')
        cls_variants['fp32, AdamW fused, torch.compile'] = compiled

    rows = []
    for task, variants in (('MAE ViT-B/16 pretraining', mae_variants),
                           ('ViT-B/16 fine-tuning', cls_variants)):
        flops = count_flops(next(iter(variants.values())))
        seconds = measure(variants, repeats)
        baseline = next(iter(seconds.values()))
        for name, value in seconds.items():
            rate = flops / value
            rows.append((task, name, batch_size / value, rate / 1e9,
                         100 * rate / gemm['fp32'], baseline / value))
    print_table(f'train_step, median of {repeats} steps (FLOPs counted once per '
                'model, GEMM-type ops only)',
                ['model', 'variant', 'images/s', 'GFLOP/s', '% of fp32 GEMM',
                 'x first row'], rows)
    print_table('where a ViT-B fine-tuning step spends its time (fp32, fused AdamW)',
                ['operator', 'calls', '% self CPU'],
                profile_table(cls_variants['fp32, AdamW fused']))


if __name__ == '__main__':
    main()
