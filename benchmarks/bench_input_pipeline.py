"""Input pipeline: 1024-px radiograph file -> augmented 224-px tensor, per worker.

Side by side in one process with one thread (a dataloader worker):

- ``seed``: the seeds' pipeline, ``PIL open -> convert('RGB') ->
  RandomResizedCrop(224, bicubic) -> RandomHorizontalFlip -> ToTensor ->
  Normalize`` (torchvision).
- ``fast``: ``FastXRayRandomResizedCrop(out_channels=1)`` (grey draft-mode
  decode of the crop, uint8 resize) then the same normalised float
  3 x 224 x 224 tensor as ``seed``.
- ``fast-uint8``: ``FastXRayRandomResizedCrop(out_channels=1)`` to the uint8
  tensor ``PackInputs`` hands to the model (normalisation then runs on the
  batch in the data preprocessor).
- ``cache``: ``CachedXRayRandomResizedCrop`` from a 512-px memory-mapped cache
  (``tools/data/build_image_cache.py``), normalised float tensor.

Every repeat runs all methods over the same files in turn; tables give medians
of images/s and of the per-repeat ratio to ``seed``.
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

import cv2
import numpy as np
import torch
from PIL import Image
from torchvision import transforms as T

from benchmarks.common import SHARED_DATA, machine_line, median, print_table, timed
from cxr_plugins.datasets.transforms.fast_loading import (
    CachedXRayRandomResizedCrop,
    FastXRayRandomResizedCrop,
)
from cxr_plugins.datasets.transforms.image_cache import build_image_cache

IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)


def seed_pipeline() -> T.Compose:
    """The seeds' ImageNet-style training transform."""
    augment = T.Compose(
        [
            T.RandomResizedCrop(224, interpolation=T.InterpolationMode.BICUBIC),
            T.RandomHorizontalFlip(),
            T.ToTensor(),
            T.Normalize(IMAGENET_MEAN, IMAGENET_STD),
        ]
    )
    return lambda path: augment(Image.open(path).convert('RGB'))


def normalised(transform) -> callable:
    """Our grey transform, then the seed pipeline's normalised 3-channel tensor.

    The grey channel is normalised once per ImageNet channel in one broadcast
    (the image is grey, so the three RGB channels are equal before it).
    """
    scale = 1 / (torch.tensor(IMAGENET_STD).view(3, 1, 1) * 255)
    shift = -torch.tensor(IMAGENET_MEAN).view(3, 1, 1) / torch.tensor(
        IMAGENET_STD
    ).view(3, 1, 1)

    def run(path: Path) -> torch.Tensor:
        grey = torch.from_numpy(transform(dict(img_path=str(path)))['img'])
        return torch.addcmul(shift, grey.float().unsqueeze(0), scale)

    return run


def packed_uint8(transform) -> callable:
    """Our transform to the uint8 CHW tensor of ``PackInputs``."""

    def run(path: Path) -> torch.Tensor:
        image = transform(dict(img_path=str(path)))['img']
        return torch.from_numpy(image).unsqueeze(0)

    return run


def make_pngs(sources: list[Path], out_dir: Path) -> tuple[list[Path], list[Path]]:
    """8- and 16-bit 1024-px PNG copies of real radiographs."""
    png8, png16 = [], []
    for source in sources:
        grey = np.asarray(Image.open(source).convert('L'))
        png8.append(out_dir / f'{source.stem}_8bit.png')
        png16.append(out_dir / f'{source.stem}_16bit.png')
        cv2.imwrite(str(png8[-1]), grey)
        cv2.imwrite(str(png16[-1]), grey.astype(np.uint16) * 257)
    return png8, png16


def throughput(fn, paths: list[Path]) -> float:
    """Images per second of ``fn`` over ``paths``."""
    return len(paths) / timed(lambda: [fn(path) for path in paths])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument('--quick', action='store_true', help='fewer images/repeats')
    args = parser.parse_args()
    torch.set_num_threads(1)
    cv2.setNumThreads(1)
    repeats = 3 if args.quick else 5
    per_case = 14 if args.quick else 28
    siim = sorted((SHARED_DATA / 'siim_acr_sample' / 'images').glob('*.jpg'))
    covid = sorted((SHARED_DATA / 'covid_cxr' / 'images').glob('*.jpg'))[:per_case]
    print(f'Input pipeline benchmark, one worker thread | {machine_line()}')
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        png8, png16 = make_pngs(siim[:6], tmp)
        cache_seconds = timed(
            lambda: build_image_cache(
                siim, SHARED_DATA / 'siim_acr_sample' / 'images', tmp / 'cache', 512
            )
        )
        seed = seed_pipeline()
        fast = FastXRayRandomResizedCrop(out_channels=1)
        methods = {
            'seed': seed,
            'fast': normalised(fast),
            'fast-uint8': packed_uint8(fast),
        }
        cases = {
            'JPEG 1024x1024 (SIIM-ACR)': (siim, {}),
            'JPEG <=1024 px (COVID collection)': (covid, {}),
            'PNG 8-bit 1024x1024': (png8, {}),
            'PNG 16-bit 1024x1024': (png16, {}),
            'cache 512 px (from SIIM-ACR JPEG)': (
                siim,
                {
                    'cache': normalised(
                        CachedXRayRandomResizedCrop(str(tmp / 'cache'), out_channels=1)
                    )
                },
            ),
        }
        rows = []
        for case, (paths, extra) in cases.items():
            paths = (paths * (per_case // len(paths) + 1))[:per_case]
            case_methods = {'seed': seed, **extra} if extra else methods
            rates = {name: [] for name in case_methods}
            for _ in range(repeats):
                for name, fn in case_methods.items():
                    rates[name].append(throughput(fn, paths))
            for name in case_methods:
                ratios = [r / s for r, s in zip(rates[name], rates['seed'])]
                rows.append((case, name, median(rates[name]), median(ratios)))
    print_table(
        f'images/s per worker, median of {repeats} repeats x {per_case} images',
        ['input', 'pipeline', 'images/s', 'x seed'],
        rows,
    )
    print(
        f'cache build: {len(siim)} SIIM-ACR images at 512 px in {cache_seconds:.2f} s'
    )


if __name__ == '__main__':
    main()
