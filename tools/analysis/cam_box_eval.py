"""Grad-CAM localisation on NIH ChestX-ray14 boxes: AP25 / AP50 / mIoU (EVA-X protocol).

Example::

    python tools/analysis/cam_box_eval.py CONFIG CHECKPOINT \\
        --boxes ../shared/data/labels/nih_cxr14/BBox_List_2017.csv.gz \\
        --img-root data/nih_cxr14/images --out work_dirs/cam_boxes.json

For every box, the CAM of the boxed class is computed on the whole image (the
test pipeline's resize / crop steps are replaced by one resize to the backbone's
``img_size`` or ``--img-size``, so box coordinates map linearly), the
threshold is searched over 0.01-0.60 and the best one by mIoU is reported with
the whole sweep. ``--only-available`` evaluates the boxes whose image exists
under ``--img-root`` and says how many that was.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np
from tqdm import tqdm

from cxr_plugins import compat
from cxr_plugins.apis.inference import init_classifier, prepare_batch
from cxr_plugins.evaluation.metrics.cam_localisation import (
    DEFAULT_THRESHOLDS,
    best_threshold,
    cam_box_ious,
    localisation_scores,
    read_nih_boxes,
)
from cxr_plugins.visualization import compute_cams


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument('config')
    parser.add_argument('checkpoint')
    parser.add_argument(
        '--boxes', type=Path, required=True, help='BBox_List_2017.csv(.gz)'
    )
    parser.add_argument(
        '--img-root',
        type=Path,
        required=True,
        help='folder holding the NIH images (searched recursively)',
    )
    parser.add_argument('--out', type=Path, help='write the scores as JSON')
    parser.add_argument(
        '--img-size', type=int, help='resize size when the test pipeline has no resize'
    )
    parser.add_argument(
        '--only-available',
        action='store_true',
        help='evaluate the boxes whose image is present',
    )
    parser.add_argument('--unsafe-load', action='store_true')
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if args.unsafe_load:
        compat.allow_unsafe_load()
    model = init_classifier(args.config, args.checkpoint)
    names = model.dataset_meta['classes']
    boxes = read_nih_boxes(args.boxes)
    unknown = sorted({box.label for box in boxes} - set(names))
    if unknown:
        raise KeyError(f'{args.boxes}: box labels {unknown} are not model classes')
    images = {path.name: path for path in args.img_root.rglob('*.png')}
    missing = [box.image for box in boxes if box.image not in images]
    if missing and not args.only_available:
        raise FileNotFoundError(
            f'{len(missing)} of {len(boxes)} box images are not under '
            f'{args.img_root} (e.g. {missing[0]}); pass --only-available'
        )
    boxes = [box for box in boxes if box.image in images]
    if not boxes:
        raise FileNotFoundError(f'no box image found under {args.img_root}')
    cams = []
    for box in tqdm(boxes, unit='box', desc='cam'):
        batch = prepare_batch(
            model, [images[box.image]], args.img_size, whole_image=True
        )
        inputs = model.data_preprocessor(batch, training=False)['inputs']
        cams.append(compute_cams(model, inputs, [names.index(box.label)])[0, 0])
    ious = cam_box_ious(cams, boxes)
    best = best_threshold(ious)
    sweep = {
        name: values.round(3).tolist()
        for name, values in localisation_scores(ious).items()
    }
    result = dict(
        num_boxes=len(boxes),
        num_boxes_in_file=len(boxes) + len(missing),
        best=best,
        thresholds=list(map(float, DEFAULT_THRESHOLDS)),
        sweep=sweep,
        per_class_count={
            name: int(np.sum([box.label == name for box in boxes]))
            for name in sorted({box.label for box in boxes})
        },
    )
    print(
        f'{len(boxes)} boxes ({len(missing)} without image): best threshold '
        f'{best["threshold"]:.2f}: AP25 {best["ap25"]:.2f}  AP50 {best["ap50"]:.2f}'
        f'  mIoU {best["miou"]:.2f}'
    )
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(json.dumps(result, indent=2))
    return 0


if __name__ == '__main__':
    sys.exit(main())
