"""Grad-CAM figures for chosen radiographs: the image next to one CAM per class.

Example::

    python tools/analysis/gradcam.py CONFIG CHECKPOINT img1.png img2.dcm \\
        --out-dir work_dirs/gradcam --classes Cardiomegaly Effusion

Each image gives ``<stem>_gradcam.png``: the input as the model sees it, then
the Grad-CAM overlay of every explained class titled with its probability
(``--classes``, or the ``--top-k`` most probable). ViT backbones use the last
block's first LayerNorm with the token -> grid reshape, CNNs their last stage.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
import torch
from matplotlib.figure import Figure

from cxr_plugins import compat
from cxr_plugins.apis.inference import find_images, init_classifier, prepare_batch
from cxr_plugins.visualization import compute_cams, overlay_cam


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument('config')
    parser.add_argument('checkpoint')
    parser.add_argument('inputs', nargs='+', help='images, folders or .txt lists')
    parser.add_argument('--out-dir', type=Path, required=True)
    parser.add_argument('--classes', nargs='+', help='class names to explain')
    parser.add_argument('--top-k', type=int, default=3)
    parser.add_argument(
        '--img-size', type=int, help='resize size when the test pipeline has no resize'
    )
    parser.add_argument(
        '--target-layer', help="CNN backbone submodule to explain (e.g. 'layer3')"
    )
    parser.add_argument('--unsafe-load', action='store_true')
    return parser.parse_args(argv)


def cam_figure(
    image: np.ndarray, overlays: list[np.ndarray], titles: list[str], name: str
) -> Figure:
    """One row: the input, then each overlay with its title."""
    figure = Figure(figsize=(2.6 * (len(overlays) + 1), 3.0))
    axes = figure.subplots(1, len(overlays) + 1, squeeze=False)[0]
    for axis, picture, title in zip(axes, [image, *overlays], [name, *titles]):
        axis.imshow(picture)
        axis.set_title(title, fontsize=8)
        axis.axis('off')
    figure.tight_layout()
    return figure


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if args.unsafe_load:
        compat.allow_unsafe_load()
    model = init_classifier(args.config, args.checkpoint)
    names = model.dataset_meta['classes']
    if args.classes and (unknown := sorted(set(args.classes) - set(names))):
        raise KeyError(f'--classes {unknown} not among the model classes {names}')
    args.out_dir.mkdir(parents=True, exist_ok=True)
    for path in find_images(args.inputs):
        batch = prepare_batch(model, [path], args.img_size)
        inputs = model.data_preprocessor(batch, training=False)['inputs']
        with torch.no_grad():  # the head's own sigmoid / softmax
            probs = model.test_step(batch)[0].pred_score.cpu().numpy()
        indices = (
            [names.index(name) for name in args.classes]
            if args.classes
            else list(np.argsort(-probs)[: args.top_k])
        )
        cams = compute_cams(model, inputs, indices, args.target_layer)[0]
        image = batch['inputs'][0].permute(1, 2, 0).numpy().astype(np.uint8)
        overlays = [overlay_cam(image, cam) for cam in cams]
        titles = [f'{names[i]} p={probs[i]:.2f}' for i in indices]
        out = args.out_dir / f'{path.stem}_gradcam.png'
        cam_figure(image, overlays, titles, path.name).savefig(out, dpi=110)
        print(f'{out}: ' + ', '.join(titles))
    return 0


if __name__ == '__main__':
    sys.exit(main())
