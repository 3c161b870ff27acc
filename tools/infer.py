"""Classify radiographs (images, folders, .txt lists) into a CSV of class probabilities.

Example (after ``bash tools/run_demo.sh``, whose fine-tuning writes
``epoch_15.pth``)::

    python tools/infer.py \\
        configs/demo/vit-demo-p8_mae-pre_1xb64-15e_nih14-demo-64px.py \\
        work_dirs/demo/classification/epoch_15.pth data/demo/nih14_64px/images \\
        --out work_dirs/infer/probs.csv --cam-dir work_dirs/infer/cams --cam-top-k 2

The CSV has ``img_path`` and one ``prob_<class>`` column per class (as the
``predictions.csv`` of ``tools/test.py --out-dir``); it is written to a
temporary file and renamed when complete, so an existing CSV is never left
half-written. PNG, JPEG, BMP, TIFF and DICOM (by suffix, or by content for
suffix-less PACS files such as ``IM0001``) are read by the config's test
pipeline (``LoadXRayImage``); when that pipeline does not resize, images are
resized to the backbone's ``img_size`` (or ``--img-size``). ``--skip-bad``
continues past unreadable images and lists them in ``<out>.skipped.tsv`` and
the summary. With ``--cam-dir`` one Grad-CAM overlay PNG is written per image
and explained class, at ``<cam-dir>/<input path relative to the inputs'
common folder>_<class>.png`` (``a.png`` and ``a.jpg`` never collide); an
all-flat heat-map is reported.
"""

from __future__ import annotations

import argparse
import csv
import os
import sys
import tempfile
from pathlib import Path

import numpy as np
import torch
from tqdm import tqdm

from cxr_plugins import compat
from cxr_plugins.apis.inference import (
    batched,
    find_images,
    init_classifier,
    prepare_batch_skipping,
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
    parser.add_argument(
        '--skip-bad',
        action='store_true',
        help='continue past unreadable images; list them in <out>.skipped.tsv',
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


def cam_path(cam_dir: Path, path: Path, root: Path, class_name: str) -> Path:
    """``<cam_dir>/<path relative to root, suffix kept>_<class>.png``: unique
    per input file and class."""
    relative = Path(os.path.relpath(path.resolve(), root))
    return cam_dir / relative.parent / f'{relative.name}_{class_name}.png'


def write_cams(
    model,
    batch: dict,
    probs: np.ndarray,
    paths: list[Path],
    root: Path,
    args: argparse.Namespace,
) -> tuple[list[Path], list[Path]]:
    """One overlay PNG per image and explained class.

    Returns:
        ``(written, flat)``: every overlay, and those whose heat-map is
        constant (Grad-CAM found no evidence: the overlay shows nothing).
    """
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
    written, flat = [], []
    for row, path in enumerate(paths):
        inputs = data['inputs'][row : row + 1]
        cams = compute_cams(model, inputs, per_image[row])[0]
        image = batch['inputs'][row].permute(1, 2, 0).cpu().numpy().astype(np.uint8)
        for cam, index in zip(cams, per_image[row]):
            out = cam_path(args.cam_dir, path, root, names[index])
            out.parent.mkdir(parents=True, exist_ok=True)
            Image.fromarray(overlay_cam(image, cam)).save(out)
            written.append(out)
            if float(np.ptp(np.asarray(cam))) < 1e-6:
                flat.append(out)
    return written, flat


def atomic_writer(target: Path):
    """A temporary file next to ``target`` (renamed onto it by the caller)."""
    target.parent.mkdir(parents=True, exist_ok=True)
    handle = tempfile.NamedTemporaryFile(
        'w', newline='', dir=target.parent, prefix=f'.{target.name}.', delete=False
    )
    return handle


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if args.unsafe_load:
        compat.allow_unsafe_load()
    model = init_classifier(args.config, args.checkpoint, device=args.device)
    names = model.dataset_meta['classes']
    paths = find_images(args.inputs)
    root = Path(os.path.commonpath([str(p.resolve().parent) for p in paths]))
    if args.cam_dir:
        args.cam_dir.mkdir(parents=True, exist_ok=True)
    overlays, flat, skipped = [], [], []
    handle = atomic_writer(args.out)
    try:
        with handle, tqdm(total=len(paths), unit='img', desc='infer') as progress:
            writer = csv.writer(handle)
            writer.writerow(['img_path', *(f'prob_{name}' for name in names)])
            for chunk in batched(paths, args.batch_size):
                batch, kept, bad = prepare_batch_skipping(model, chunk, args.img_size)
                if bad and not args.skip_bad:
                    path, reason = bad[0]
                    raise RuntimeError(
                        f'{path}: {reason} (pass --skip-bad to continue past '
                        'unreadable images)'
                    )
                skipped += bad
                progress.update(len(chunk))
                if batch is None:
                    continue
                with torch.no_grad():
                    samples = model.test_step(batch)
                probs = np.stack([s.pred_score.cpu().numpy() for s in samples])
                for path, row in zip(kept, probs):
                    writer.writerow([str(path), *(f'{p:.6f}' for p in row)])
                if args.cam_dir:
                    written, blank = write_cams(model, batch, probs, kept, root, args)
                    overlays += written
                    flat += blank
        os.replace(handle.name, args.out)
    except BaseException:
        os.unlink(handle.name)
        raise
    sidecar = args.out.with_name(args.out.name + '.skipped.tsv')
    if skipped:
        side = atomic_writer(sidecar)
        with side:
            side.writelines(f'{path}\t{reason}\n' for path, reason in skipped)
        os.replace(side.name, sidecar)
    elif sidecar.exists():
        sidecar.unlink()  # a stale list from an earlier run would mislead
    print(f'wrote probabilities of {len(paths) - len(skipped)} images to {args.out}')
    if skipped:
        print(f'skipped {len(skipped)} unreadable image(s), listed in {sidecar}:')
        for path, reason in skipped[:10]:
            print(f'  {path}: {reason}')
    if args.cam_dir:
        print(f'wrote {len(overlays)} Grad-CAM overlays to {args.cam_dir}')
        if flat:
            print(
                f'WARNING: {len(flat)} heat-map(s) are flat (no evidence for '
                f'the class), e.g. {flat[0]}'
            )
    return 0


if __name__ == '__main__':
    sys.exit(main())
