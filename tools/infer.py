"""Classify radiographs (images, folders, .txt lists) into a CSV of class probabilities.

Example::

    python tools/infer.py \\
        configs/demo/vit-demo-p8_mae-pre_1xb64-15e_nih14-demo-64px.py \\
        work_dirs/demo/classification/best.pth data/demo/nih14_64px/images \\
        --out work_dirs/infer/probs.csv --cam-dir work_dirs/infer/cams --cam-top-k 2

PNG, JPEG and DICOM (``.dcm``) are read by the config's test pipeline
(``LoadXRayImage``); when that pipeline does not resize, images are resized to
the backbone's ``img_size`` (or ``--img-size``). With ``--cam-dir`` one Grad-CAM
overlay PNG is written per image and explained class (``--classes`` or the
``--cam-top-k`` most probable ones).
"""

from __future__ import annotations

import argparse
import csv
import sys
from pathlib import Path

import numpy as np
import torch
from tqdm import tqdm

from cxr_plugins import compat
from cxr_plugins.apis.inference import (
    batched,
    find_images,
    init_classifier,
    prepare_batch,
)


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument('config')
    parser.add_argument('checkpoint')
    parser.add_argument(
        'inputs',
        nargs='+',
        help='image files, folders (searched recursively) or .txt lists of image paths',
    )
    parser.add_argument('--out', type=Path, required=True, help='output CSV')
    parser.add_argument('--batch-size', type=int, default=16)
    parser.add_argument(
        '--img-size', type=int, help='resize size when the test pipeline has no resize'
    )
    parser.add_argument(
        '--device', default='cuda' if torch.cuda.is_available() else 'cpu'
    )
    parser.add_argument('--cam-dir', type=Path, help='write Grad-CAM overlays here')
    parser.add_argument(
        '--classes', nargs='+', help='class names to explain (default: top-k per image)'
    )
    parser.add_argument('--cam-top-k', type=int, default=1)
    parser.add_argument(
        '--unsafe-load',
        action='store_true',
        help='fully unpickle a trusted legacy checkpoint',
    )
    return parser.parse_args(argv)


def write_cams(
    model, batch: dict, probs: np.ndarray, paths: list[Path], args: argparse.Namespace
) -> list[Path]:
    """One overlay PNG per image and explained class; returns their paths."""
    from PIL import Image

    from cxr_plugins.visualization import compute_cams, overlay_cam

    names = model.dataset_meta['classes']
    if args.classes:
        unknown = sorted(set(args.classes) - set(names))
        if unknown:
            raise KeyError(f'--classes {unknown} not among the model classes {names}')
        per_image = [[names.index(name) for name in args.classes]] * len(paths)
    else:
        per_image = [list(np.argsort(-row)[: args.cam_top_k]) for row in probs]
    data = model.data_preprocessor(batch, training=False)
    written = []
    for row, path in enumerate(paths):
        inputs = data['inputs'][row : row + 1]
        cams = compute_cams(model, inputs, per_image[row])[0]
        image = batch['inputs'][row].permute(1, 2, 0).cpu().numpy().astype(np.uint8)
        for cam, index in zip(cams, per_image[row]):
            out = args.cam_dir / f'{path.stem}_{names[index]}.png'
            Image.fromarray(overlay_cam(image, cam)).save(out)
            written.append(out)
    return written


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if args.unsafe_load:
        compat.allow_unsafe_load()
    model = init_classifier(args.config, args.checkpoint, device=args.device)
    names = model.dataset_meta['classes']
    paths = find_images(args.inputs)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    if args.cam_dir:
        args.cam_dir.mkdir(parents=True, exist_ok=True)
    overlays = 0
    with (
        open(args.out, 'w', newline='') as file,
        tqdm(total=len(paths), unit='img', desc='infer') as progress,
    ):
        writer = csv.writer(file)
        writer.writerow(['path', *names])
        for chunk in batched(paths, args.batch_size):
            batch = prepare_batch(model, chunk, args.img_size)
            with torch.no_grad():
                samples = model.test_step(batch)
            probs = np.stack([s.pred_score.cpu().numpy() for s in samples])
            for path, row in zip(chunk, probs):
                writer.writerow([str(path), *(f'{p:.6f}' for p in row)])
            if args.cam_dir:
                overlays += len(write_cams(model, batch, probs, list(chunk), args))
            progress.update(len(chunk))
    print(f'wrote probabilities of {len(paths)} images to {args.out}')
    if args.cam_dir:
        print(f'wrote {overlays} Grad-CAM overlays to {args.cam_dir}')
    return 0


if __name__ == '__main__':
    sys.exit(main())
