"""Convert a seed checkpoint into a cxr_plugins backbone / classifier checkpoint.

Examples::

    # a released file, by its model-zoo row (docs/model_zoo.md): mapping,
    # output path the recipe reads, class names
    python tools/convert/convert_checkpoint.py vit-b_CXR_0.5M_mae.pth \\
        --zoo medmae-vit-base-0.5m --unsafe-load
    python tools/convert/convert_checkpoint.py eva_x_small_patch16_merged520k_mim.pt \\
        work_dirs/pretrained/evax-s.safetensors --format evax --unsafe-load
    python tools/convert/convert_checkpoint.py moco_v2.pth.tar r50.pth --format moco

The output holds ``{'state_dict': {'backbone.*', ['head.fc.*']}, 'meta': ...}``
(weights only; ``meta['dataset_meta']['classes']`` when the class names are
known) or the same tensors as ``.safetensors``, plus ``OUT.report.json``: the
number and names of keys mapped, resampled, written to the head, dropped by a
named rule, and left at a fresh init. The conversion fails (exit 1, nothing
written) on any source key no rule maps or drops and on any target key
nothing fills. Load the output with ``init_cfg=dict(type='CXRPretrained',
checkpoint=OUT, prefix='backbone.', allowed_missing=[...])``.

Seed files are pickles holding ``argparse.Namespace`` and need
``--unsafe-load`` once; the converted file is weights-only.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from cxr_plugins.convert import FORMATS, ConversionError, convert_checkpoint
from cxr_plugins.convert.zoo import ZOO
from cxr_plugins.engine.checkpoint import (
    allow_unsafe_load,
    atomic_write_bytes,
    load_checkpoint_file,
    save_weights,
)


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument('src', type=Path, help='seed checkpoint')
    parser.add_argument(
        'out',
        type=Path,
        nargs='?',
        help='output .pth or .safetensors (default with --zoo: the path its '
        'recipe config reads)',
    )
    parser.add_argument(
        '--zoo', choices=sorted(ZOO), help='model-zoo row: format, arch, output'
    )
    parser.add_argument('--format', choices=('auto', *FORMATS))
    parser.add_argument(
        '--arch',
        help='target arch (CXRViT/EVAX arch name or ResNet depth); inferred '
        'from the checkpoint by default',
    )
    parser.add_argument(
        '--img-size', type=int, help='target input size (resamples pos_embed)'
    )
    parser.add_argument(
        '--patch-size', type=int, help='target patch size (resamples the patch kernel)'
    )
    parser.add_argument(
        '--num-classes',
        type=int,
        help='keep a fine-tuned source classifier as head.fc.* when it has '
        'this many outputs (a pretraining classifier is always dropped)',
    )
    parser.add_argument(
        '--classes', nargs='+', help="class names for meta['dataset_meta']"
    )
    parser.add_argument(
        '--unsafe-load',
        action='store_true',
        help='fully unpickle a trusted seed checkpoint (one that stores '
        'argparse.Namespace etc.)',
    )
    args = parser.parse_args(argv)
    entry = ZOO.get(args.zoo)
    if entry is not None:
        args.out = args.out or Path(entry.output)
        args.format = args.format or entry.source_format
        for key, value in entry.convert_args.items():
            if getattr(args, key) is None:
                setattr(args, key, value)
    if args.out is None:
        parser.error('give OUT or --zoo NAME')
    args.format = args.format or 'auto'
    return args


def class_names(args: argparse.Namespace) -> list[str] | None:
    """``--classes``, else the test-set class names of the zoo row's recipe."""
    if args.classes:
        return list(args.classes)
    entry = ZOO.get(args.zoo)
    if entry is None or entry.config is None:
        return None
    from mmengine.config import Config

    from cxr_plugins.apis.inference import class_names_from_config

    if not Path(entry.config).is_file():
        print(
            f'class names not written: {entry.config} not found (run from the '
            'repository root, or pass --classes)'
        )
        return None
    try:
        return class_names_from_config(Config.fromfile(entry.config))
    except KeyError as error:
        print(f'class names not written: {error}')
        return None


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if args.unsafe_load:
        allow_unsafe_load()
    try:
        checkpoint = load_checkpoint_file(args.src)
    finally:
        allow_unsafe_load(False)
    try:
        state_dict, report, target = convert_checkpoint(
            checkpoint,
            fmt=args.format,
            arch=args.arch,
            img_size=args.img_size,
            patch_size=args.patch_size,
            num_classes=args.num_classes,
        )
    except ConversionError as error:
        print(f'{args.src}: {error}', file=sys.stderr)
        return 1
    print(report.format())
    print(f'target backbone: {target.backbone_cfg}')
    meta = dict(
        source=str(args.src),
        source_format=report.source_format,
        backbone_cfg=repr(target.backbone_cfg),
        zoo=args.zoo or '',
    )
    classes = class_names(args)
    if classes:
        meta['dataset_meta'] = dict(classes=classes)
    save_weights(state_dict, args.out, meta)
    report_path = args.out.with_name(args.out.name + '.report.json')
    atomic_write_bytes(report.to_json().encode(), report_path)
    print(f'wrote {len(state_dict)} tensors to {args.out}; report {report_path}')
    return 0


if __name__ == '__main__':
    sys.exit(main())
