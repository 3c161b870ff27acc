"""Original / masked / reconstruction figure from a pretraining checkpoint.

``python tools/analysis/vis_reconstruction.py CONFIG CKPT --images A.png B.png
--out fig.png [--seed 0] [--img-size 224]``

Works with every model that has a ``reconstruct(inputs)`` method: ``CXRMAE``, ``MRM``
and ``CNNMAE`` (pixels), ``EVAXMIM`` (third column = per-patch cosine
similarity between the student's prediction and the teacher's feature).
Images are loaded with ``LoadXRayImage`` and resized to the training size.

Example::

    python tools/analysis/vis_reconstruction.py \\
        configs/pretrain/mae/mae_vit-demo-p8_dec128d2b_1xb32-30e_nih14-demo-64px.py \\
        work_dirs/mae_demo/epoch_30.pth \\
        --images data/demo/nih14_64px/images/00000001_000.png --out recon.png
"""

from __future__ import annotations

import argparse
from pathlib import Path

import cv2
import numpy as np
import torch
from mmengine.config import Config
from mmengine.registry import init_default_scope
from mmengine.runner import load_checkpoint

import cxr_plugins  # noqa: F401  (registration + safe checkpoint loading)
from cxr_plugins.visualization import denormalize, save_reconstruction_grid


def training_image_size(cfg: Config) -> int:
    """The random-resized-crop size of the training pipeline."""
    dataset = cfg.train_dataloader.dataset
    while 'pipeline' not in dataset and 'datasets' in dataset:
        dataset = dataset.datasets[0]
    for transform in dataset.get('pipeline', []):
        if transform['type'] == 'FastXRayRandomResizedCrop':
            return int(transform['size'])
        if transform['type'] == 'RandomResizedCrop':
            return int(transform['scale'])
    raise KeyError(
        f'{cfg.filename}: no (FastXRay)RandomResizedCrop in the training '
        'pipeline; pass --img-size'
    )


def load_images(paths: list[str], size: int) -> torch.Tensor:
    """Load X-rays as RGB uint8 and resize them to ``size`` x ``size``."""
    from mmpretrain.registry import TRANSFORMS

    loader = TRANSFORMS.build(dict(type='LoadXRayImage'))
    images = []
    for path in paths:
        image = loader(dict(img_path=path))['img']
        image = cv2.resize(image, (size, size), interpolation=cv2.INTER_AREA)
        images.append(torch.from_numpy(np.ascontiguousarray(image)).permute(2, 0, 1))
    return torch.stack(images)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument('config')
    parser.add_argument('checkpoint')
    parser.add_argument('--images', nargs='+', required=True)
    parser.add_argument('--out', required=True, help='PNG to write')
    parser.add_argument('--seed', type=int, default=0, help='seed of the masks')
    parser.add_argument('--img-size', type=int, default=None)
    args = parser.parse_args(argv)

    cfg = Config.fromfile(args.config)
    init_default_scope(cfg.get('default_scope', 'mmpretrain'))
    from mmpretrain.registry import MODELS

    model_cfg = cfg.model.copy()
    if 'teacher' in model_cfg:
        # The trained checkpoint holds the teacher weights already.
        model_cfg.teacher.pop('init_cfg', None)
    model = MODELS.build(model_cfg)
    if not hasattr(model, 'reconstruct'):
        raise TypeError(f'{type(model).__name__} has no reconstruct() method')
    load_checkpoint(model, args.checkpoint, map_location='cpu', strict=True)
    model.eval()

    size = args.img_size or training_image_size(cfg)
    raw = load_images(args.images, size)
    inputs = model.data_preprocessor(dict(inputs=raw, data_samples=None), False)[
        'inputs'
    ]
    torch.manual_seed(args.seed)  # every reconstruct() masks with the global RNG
    outputs = model.reconstruct(inputs)

    mean, std = model.data_preprocessor.mean, model.data_preprocessor.std
    originals = denormalize(inputs, mean, std)
    masked = denormalize(outputs['masked'], mean, std)
    masked[outputs['mask'][:, 0].cpu().numpy() > 0] = 0.0
    if 'similarity' in outputs:
        third = outputs['similarity'][:, 0].cpu().numpy()
        path = save_reconstruction_grid(
            originals,
            masked,
            third,
            args.out,
            third_title='cosine(student, teacher)',
            third_is_similarity=True,
            titles=[Path(p).name for p in args.images],
        )
    else:
        third = denormalize(outputs['reconstruction'], mean, std)
        path = save_reconstruction_grid(
            originals,
            masked,
            third,
            args.out,
            titles=[Path(p).name for p in args.images],
        )
    print(f'saved {path}')


if __name__ == '__main__':
    main()
