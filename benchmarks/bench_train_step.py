"""Training step: images/s and FLOP/s against the GEMM rate of the step's own shapes.

In one process with ``torch.set_num_threads(2)``:

- ``GEMM peak``: for every matmul shape a step runs (qkv, projection, MLP of
  encoder and decoder, at the batch's token counts), the best-of-N rate of
  ``torch.mm`` in fp32 and bf16; the step's peak is the rate it would reach if
  each of its GEMMs ran at its own measured rate (FLOP-weighted harmonic mean).
- ``MAE ViT-B/16 pretraining``: mmpretrain's stock ``MAE`` built from the model
  dict of mmpretrain's own ``mae/mae_vit-base-p16_8xb512-amp-coslr-300e_in1k.py``
  beside ours (``configs/pretrain/mae/mae_vit-base-p16_dec512d8b_8xb256-800e_nih-
  chexpert-mimic.py``), both at mask ratio 0.75 with the SAME fused AdamW, and
  ours with bf16 autocast (``CPUAmpOptimWrapper``) where the CPU has native bf16.
- ``ViT-B/16 fine-tuning``: ``CXRViT`` arch base + 14-way multi-label linear
  head (BCE), fused AdamW, fp32 and bf16; and timm's ``vit_base_patch16_224`` in
  a plain PyTorch loop (same optimizer, same loss) as the outside reference.

A step is ``model.train_step`` (data preprocessor, forward, backward, AdamW
update), as the mmengine Runner calls it. FLOPs per step are counted by
``torch.utils.flop_counter.FlopCounterMode`` plus the attention FLOPs it misses
on CPU (scaled-dot-product attention counts 0 there): ``12 * B * N^2 * D`` per
layer and step (QK^T and AV forward, twice that backward). Element-wise work is
not counted. Variants run round-robin; tables give medians.
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
from benchmarks.common import (
    REPO_ROOT,
    machine_facts,
    machine_line,
    median,
    print_table,
    write_results,
)
from cxr_plugins.engine.optimizers.cpu_amp import CPUAmpOptimWrapper, cpu_bf16_support

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


def gemm_rate(dtype: torch.dtype, m: int, k: int, n: int, repeats: int) -> float:
    """Best-of-``repeats`` FLOP/s of ``(m, k) @ (k, n)`` in ``dtype``."""
    a = torch.randn(m, k).to(dtype)
    b = torch.randn(k, n).to(dtype)
    torch.mm(a, b)
    best = float('inf')
    for _ in range(repeats):
        start = time.perf_counter()
        torch.mm(a, b)
        best = min(best, time.perf_counter() - start)
    return 2 * m * k * n / best


def vit_gemms(tokens: int, dim: int, layers: int) -> list[tuple[int, int, int, int]]:
    """``(m, k, n, count)`` of the forward matmuls of ``layers`` ViT blocks.

    Backward runs each shape twice more (input and weight gradients, the same
    FLOPs in transposed layouts), which the same rates stand for.
    """
    return [
        (tokens, dim, 3 * dim, layers),
        (tokens, dim, dim, layers),
        (tokens, dim, 4 * dim, layers),
        (tokens, 4 * dim, dim, layers),
    ]


def gemm_peak(shapes, dtype: torch.dtype, repeats: int) -> tuple[float, list[tuple]]:
    """FLOP-weighted harmonic mean of the shapes' rates, and one row per shape."""
    rows, total_flops, total_seconds = [], 0.0, 0.0
    for m, k, n, count in shapes:
        rate = gemm_rate(dtype, m, k, n, repeats)
        flops = 2 * m * k * n * count
        total_flops += flops
        total_seconds += flops / rate
        rows.append((str(dtype).split('.')[-1], f'{m}x{k} @ {k}x{n}', rate / 1e9))
    return total_flops / total_seconds, rows


def attention_flops(batch_size: int, tokens: int, dim: int, layers: int) -> int:
    """FLOPs of SDPA forward + backward that FlopCounterMode misses on CPU."""
    return 12 * batch_size * tokens**2 * dim * layers


def adamw(
    model: torch.nn.Module, lr: float, betas: tuple[float, float], bf16: bool = False
) -> OptimWrapper:
    """Fused AdamW, wd 0.05, optionally under CPU bf16 autocast."""
    optimizer = torch.optim.AdamW(
        model.parameters(), lr=lr, betas=betas, weight_decay=0.05, fused=True
    )
    if bf16:
        return CPUAmpOptimWrapper(optimizer=optimizer, allow_emulated=True)
    return OptimWrapper(optimizer)


def timm_step(data: dict, lr: float, bf16: bool) -> Callable[[], None]:
    """timm ViT-B/16 + linear 14-way head in a plain loop (normalise, BCE, AdamW)."""
    import timm

    model = timm.create_model(
        'vit_base_patch16_224', num_classes=NUM_CLASSES, drop_path_rate=0.1
    ).train()
    optimizer = torch.optim.AdamW(
        model.parameters(), lr=lr, betas=(0.9, 0.999), weight_decay=0.05, fused=True
    )
    images = data['inputs']
    targets = torch.stack([sample.gt_score for sample in data['data_samples']])
    criterion = torch.nn.BCEWithLogitsLoss()

    def run() -> None:
        inputs = (images.float() - 128.9) / 64.3
        with torch.autocast('cpu', dtype=torch.bfloat16, enabled=bf16):
            loss = criterion(model(inputs).float(), targets)
        loss.backward()
        optimizer.step()
        optimizer.zero_grad(set_to_none=True)

    return run


def measure(variants: dict[str, Callable[[], None]], repeats: int) -> dict:
    """Median wall seconds per step of each (warmed-up) variant, round-robin."""
    samples = {name: [] for name in variants}
    for _ in range(repeats):
        for name, run in variants.items():
            start = time.perf_counter()
            run()
            samples[name].append(time.perf_counter() - start)
    return {name: median(values) for name, values in samples.items()}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        description=__doc__,
        epilog='example: python -m benchmarks.bench_train_step --quick',
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument('--quick', action='store_true', help='fewer steps')
    parser.add_argument('--batch-size', type=int, default=8)
    parser.add_argument('--threads', type=int, default=2)
    parser.add_argument('--out', type=Path, help='folder for train_step.csv/json')
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    register_all_modules(init_default_scope=True)
    batch_size = args.batch_size
    repeats = 2 if args.quick else 4
    bf16_ok, bf16_reason = cpu_bf16_support()
    print(
        f'Training step benchmark, {args.threads} threads, batch {batch_size} | '
        f'{machine_line()}\nbf16: {bf16_reason}'
    )

    # token counts: MAE encoder sees 49 of 196 patches + cls, decoder 196 + cls
    mae_shapes = vit_gemms(batch_size * 50, 768, 12) + vit_gemms(
        batch_size * 197, 512, 8
    )
    cls_shapes = vit_gemms(batch_size * 197, 768, 12)
    mae_attention = attention_flops(batch_size, 50, 768, 12) + attention_flops(
        batch_size, 197, 512, 8
    )
    cls_attention = attention_flops(batch_size, 197, 768, 12)
    shapes_of = {'mae': mae_shapes, 'cls': cls_shapes}
    peaks, gemm_rows = {}, []
    for task, shapes in (('mae', mae_shapes), ('cls', cls_shapes)):
        for dtype in (torch.float32, torch.bfloat16):
            peak, rows = gemm_peak(shapes, dtype, 3)
            peaks[task, dtype] = peak
            gemm_rows += [(task, *row) for row in rows]
    print_table(
        'GEMM rate of every shape the step runs, torch.mm, best of 3',
        ['step', 'dtype', 'shape', 'GFLOP/s'],
        gemm_rows,
    )

    mae_data = batch(batch_size, multilabel=False)
    cls_data = batch(batch_size, multilabel=True)
    mae_lr, mae_betas = 1.5e-4 * 4096 / 256, (0.9, 0.95)
    tasks = {}
    stock = mae_model(STOCK_MAE_CONFIG).train()
    mae = {
        'stock mmpretrain MAE, fp32': step_fn(
            stock, adamw(stock, mae_lr, mae_betas), mae_data
        )
    }
    ours = mae_model(OUR_MAE_CONFIG).train()
    mae['ours (CXRMAE), fp32'] = step_fn(ours, adamw(ours, mae_lr, mae_betas), mae_data)
    cls = {}
    model = finetune_model().train()
    cls['ours (CXRViT), fp32'] = step_fn(
        model, adamw(model, 1e-3, (0.9, 0.999)), cls_data
    )
    cls['timm ViT-B loop, fp32'] = timm_step(cls_data, 1e-3, bf16=False)
    if bf16_ok:
        ours16 = mae_model(OUR_MAE_CONFIG).train()
        mae['ours (CXRMAE), bf16 autocast'] = step_fn(
            ours16, adamw(ours16, mae_lr, mae_betas, bf16=True), mae_data
        )
        model16 = finetune_model().train()
        cls['ours (CXRViT), bf16 autocast'] = step_fn(
            model16, adamw(model16, 1e-3, (0.9, 0.999), bf16=True), cls_data
        )
        cls['timm ViT-B loop, bf16 autocast'] = timm_step(cls_data, 1e-3, bf16=True)
    tasks['MAE ViT-B/16 pretraining (mask 0.75)'] = (mae, 'mae', mae_attention)
    tasks['ViT-B/16 fine-tuning'] = (cls, 'cls', cls_attention)

    rows = []
    for task, (variants, key, attention) in tasks.items():
        names = list(variants)
        ours_fp32 = next(
            name for name in names if name.startswith('ours') and 'fp32' in name
        )
        flops = count_flops(variants[ours_fp32]) + attention  # also its warm-up
        for name in names:
            if name != ours_fp32:
                variants[name]()  # warm-up
        # the GEMM peak is re-measured right before and after the steps: on a
        # shared machine the load moves, and the higher of the two is kept
        before = {
            d: gemm_peak(shapes_of[key], d, 3)[0]
            for d in (torch.float32, torch.bfloat16)
        }
        seconds = measure(variants, repeats)
        for dtype in (torch.float32, torch.bfloat16):
            peaks[key, dtype] = max(
                before[dtype], gemm_peak(shapes_of[key], dtype, 3)[0]
            )
        fp32_ours = seconds[ours_fp32]
        for name, wall in seconds.items():
            dtype = torch.bfloat16 if 'bf16' in name else torch.float32
            rows.append(
                dict(
                    model=task,
                    variant=name,
                    images_per_s=batch_size / wall,
                    gflop_per_s=flops / wall / 1e9,
                    gemm_peak_gflop_per_s=peaks[key, dtype] / 1e9,
                    fraction_of_gemm_peak=flops / wall / peaks[key, dtype],
                    x_ours_fp32=fp32_ours / wall,
                    sdpa_gflop_added=attention / 1e9,
                )
            )
    header = list(rows[0])
    print_table(
        f'train_step, median of {repeats} round-robin steps (FLOPs: FlopCounterMode '
        '+ SDPA counted analytically)',
        header,
        [[row[key] for key in header] for row in rows],
    )
    if args.out:
        write_results(args.out / 'train_step', rows, machine_facts())


if __name__ == '__main__':
    main()
