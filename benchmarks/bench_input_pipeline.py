"""Input pipeline: radiograph file -> augmented 224-px batch tensor, per core.

Side by side in one process with one thread (one data-loader worker), on the
SAME crops: before every image ``numpy.random`` is seeded with the image's
index, and every side draws its box with the algorithm of mmpretrain's
``RandomResizedCrop`` (which the shipped transform reproduces draw for draw),
so all sides resample the same pixels.

- ``seed``: the seeds' PIL/torchvision pipeline, ``PIL open -> convert('RGB')
  -> resized_crop(box, 224, bicubic) -> hflip -> ToTensor -> Normalize``.
- ``shipped``: the training pipeline of ``configs/_base_/datasets/
  cls_common_224px.py`` built from the config (``FastXRayRandomResizedCrop``,
  3 channels, bicubic, then ``PackInputs``), plus the normalisation the data
  preprocessor applies to the batch, per image.
- ``pillow-draft``: the plain Pillow recipe anyone can write: ``draft('L')`` to
  the DCT scale the crop allows, ``resize(box=..., reducing_gap=2.0, BICUBIC)``,
  repeat to 3 channels, normalise.
- ``decode-only``: the decode the shipped transform does (draft-mode grey JPEG
  at the crop's DCT scale; full grey PNG by OpenCV) and nothing else: the
  ceiling of any pipeline that has to read the file.

Tables give medians of images/s over round-robin repeats and of the
per-repeat ratio to ``seed``; ``--out`` also writes them as CSV and JSON.
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

import cv2
import numpy as np
import torch
from mmengine.config import Config
from mmengine.dataset import Compose
from mmpretrain.utils import register_all_modules
from PIL import Image
from torchvision.transforms import InterpolationMode
from torchvision.transforms import functional as F

import cxr_plugins  # noqa: F401  (registers the transforms)
from benchmarks.common import (
    REPO_ROOT,
    SHARED_DATA,
    machine_facts,
    machine_line,
    median,
    print_table,
    timed,
    write_results,
)
from cxr_plugins.datasets.transforms.fast_loading import sample_crop_box
from cxr_plugins.datasets.transforms.grey_decoding import draft_reduction

SHIPPED_CONFIG = REPO_ROOT / 'configs/_base_/datasets/cls_common_224px.py'
MEAN = torch.tensor([123.675, 116.28, 103.53]).view(3, 1, 1)
STD = torch.tensor([58.395, 57.12, 57.375]).view(3, 1, 1)


def shipped_pipeline() -> tuple[callable, tuple[float, float], int]:
    """The config's training pipeline (its file and crop settings from the config)."""
    cfg = Config.fromfile(str(SHIPPED_CONFIG))
    steps = cfg.train_pipeline
    crop = steps[0]
    assert crop['type'] == 'FastXRayRandomResizedCrop', steps
    pipeline = Compose(steps)

    def run(path: Path) -> torch.Tensor:
        packed = pipeline(dict(img_path=str(path)))['inputs']
        return (packed.float() - MEAN) / STD  # the data preprocessor's work

    return run, tuple(crop['scale']), crop['size']


def draw_box(height: int, width: int, scale) -> tuple[int, int, int, int]:
    return sample_crop_box(height, width, scale, (3 / 4, 4 / 3))


def seed_pipeline(scale, size) -> callable:
    """The seeds' torchvision pipeline on the box the shipped transform draws."""
    mean, std = (MEAN / 255).flatten().tolist(), (STD / 255).flatten().tolist()

    def run(path: Path) -> torch.Tensor:
        image = Image.open(path).convert('RGB')
        top, left, height, width = draw_box(image.height, image.width, scale)
        image = F.resized_crop(
            image, top, left, height, width, [size, size], InterpolationMode.BICUBIC
        )
        if np.random.rand() < 0.5:
            image = F.hflip(image)
        return F.normalize(F.to_tensor(image), mean, std)

    return run


def pillow_draft_pipeline(scale, size) -> callable:
    """Plain Pillow: draft-mode grey decode + reducing_gap resize of the box."""

    def run(path: Path) -> torch.Tensor:
        with Image.open(path) as image:
            full_w, full_h = image.size
            top, left, height, width = draw_box(full_h, full_w, scale)
            if image.format == 'JPEG':
                image.draft(
                    'L', draft_reduction((full_w, full_h), (height, width), size)
                )
            grey = image.convert('L')
            sx, sy = grey.width / full_w, grey.height / full_h
            box = (left * sx, top * sy, (left + width) * sx, (top + height) * sy)
            grey = grey.resize(
                (size, size), Image.Resampling.BICUBIC, box=box, reducing_gap=2.0
            )
        if np.random.rand() < 0.5:
            grey = grey.transpose(Image.Transpose.FLIP_LEFT_RIGHT)
        tensor = torch.from_numpy(np.array(grey)).expand(3, size, size)
        return (tensor.float() - MEAN) / STD

    return run


def decode_only(scale, size) -> callable:
    """Only the decode of the shipped transform (draft JPEG / full PNG)."""

    def run(path: Path) -> np.ndarray:
        if path.suffix.lower() == '.png':
            return cv2.imread(str(path), cv2.IMREAD_GRAYSCALE)
        with Image.open(path) as image:
            full_w, full_h = image.size
            _, _, height, width = draw_box(full_h, full_w, scale)
            image.draft('L', draft_reduction((full_w, full_h), (height, width), size))
            return np.asarray(image.convert('L'))

    return run


def throughput(fn, paths: list[Path]) -> float:
    """Images per second of ``fn`` over ``paths``, each seeded by its index."""

    def run() -> None:
        for index, path in enumerate(paths):
            np.random.seed(index)
            fn(path)

    return len(paths) / timed(run)


def make_pngs(sources: list[Path], out_dir: Path) -> list[Path]:
    """8-bit 1024-px PNG copies of real radiographs (OpenCV default zlib level)."""
    pngs = []
    for source in sources:
        grey = np.asarray(Image.open(source).convert('L'))
        pngs.append(out_dir / f'{source.stem}.png')
        cv2.imwrite(str(pngs[-1]), grey)
    return pngs


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        description=__doc__,
        epilog='example: python -m benchmarks.bench_input_pipeline --quick '
        '--out work_dirs/bench',
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument('--quick', action='store_true', help='fewer repeats')
    parser.add_argument('--images', type=int, default=112, help='images per case')
    parser.add_argument('--out', type=Path, help='folder for input_pipeline.csv/json')
    args = parser.parse_args(argv)
    torch.set_num_threads(1)
    cv2.setNumThreads(1)
    register_all_modules(init_default_scope=True)
    repeats = 2 if args.quick else 5
    per_case = args.images
    siim = sorted((SHARED_DATA / 'siim_acr_sample' / 'images').glob('*.jpg'))
    covid = sorted((SHARED_DATA / 'covid_cxr' / 'images').glob('*.jpg'))
    nih = sorted((SHARED_DATA / 'nih_cxr14_1000_64px' / 'images').glob('*.png'))
    print(f'Input pipeline benchmark, one worker thread | {machine_line()}')
    shipped, scale, size = shipped_pipeline()
    methods = {
        'seed (PIL + torchvision)': seed_pipeline(scale, size),
        'shipped config': shipped,
        'pillow-draft (plain Pillow)': pillow_draft_pipeline(scale, size),
        'decode-only ceiling': decode_only(scale, size),
    }
    baseline = next(iter(methods))
    with tempfile.TemporaryDirectory() as tmp:
        png = make_pngs(siim, Path(tmp))
        cases = {
            f'JPEG 1024x1024 (SIIM-ACR, {len(siim)} files)': siim,
            f'JPEG <=1024 px (COVID collection, {len(covid)} files)': covid,
            f'PNG 8-bit 1024x1024 (SIIM decoded, {len(png)} files)': png,
            'PNG 8-bit 64x64 (NIH demo)': nih,
        }
        rows = []
        for case, paths in cases.items():
            paths = (paths * (per_case // len(paths) + 1))[:per_case]
            rates = {name: [] for name in methods}
            for _ in range(repeats):
                for name, fn in methods.items():
                    rates[name].append(throughput(fn, paths))
            for name in methods:
                ratios = [r / s for r, s in zip(rates[name], rates[baseline])]
                rows.append(
                    dict(
                        input=case,
                        pipeline=name,
                        images=len(paths),
                        images_per_s=median(rates[name]),
                        x_seed=median(ratios),
                    )
                )
    header = ['input', 'pipeline', 'images', 'images_per_s', 'x_seed']
    print_table(
        f'images/s per core, median of {repeats} round-robin repeats, '
        'same seeded crops',
        header,
        [[row[key] for key in header] for row in rows],
    )
    if args.out:
        write_results(args.out / 'input_pipeline', rows, machine_facts())


if __name__ == '__main__':
    main()
