"""Convert a seed checkpoint into a cxr_plugins backbone / classifier checkpoint.

Examples::

    python tools/convert/convert_checkpoint.py vit-s_CXR_0.3M_mae.pth \\
        work_dirs/pretrained/vit-s_medmae.pth --unsafe-load
    python tools/convert/convert_checkpoint.py eva_x_small_patch16_merged520k_mim.pt \\
        work_dirs/pretrained/evax-s.safetensors --format evax
    python tools/convert/convert_checkpoint.py moco_v2.pth.tar r50.pth --format moco

The output holds ``{'state_dict': {'backbone.*', ['head.fc.*']}, 'meta': ...}``
(weights only) or the same tensors as ``.safetensors``; point a config at it
with ``init_cfg=dict(type='Pretrained', checkpoint=OUT, prefix='backbone.')``.
The conversion fails when less than 90 % of the backbone was filled.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import torch

from cxr_plugins import compat
from cxr_plugins.convert import FORMATS, ConversionError, convert_checkpoint


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument('src', type=Path, help='seed checkpoint')
    parser.add_argument('out', type=Path, help='output .pth or .safetensors')
    parser.add_argument('--format', default='auto', choices=('auto', *FORMATS))
    parser.add_argument(
        '--arch',
        help='target arch (CXRViT/EVAX arch name or '
        'ResNet depth); inferred from the checkpoint by default',
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
        help='keep the source classifier as head.fc.* when it has this many outputs',
    )
    parser.add_argument(
        '--unsafe-load',
        action='store_true',
        help='fully unpickle a trusted legacy checkpoint (one '
        'that stores argparse.Namespace etc.)',
    )
    return parser.parse_args(argv)


def save_weights(
    state_dict: dict[str, torch.Tensor], meta: dict[str, str], out: Path
) -> None:
    """Write weights only: a ``.safetensors`` file or a torch file."""
    out.parent.mkdir(parents=True, exist_ok=True)
    if out.suffix == '.safetensors':
        from safetensors.torch import save_file

        save_file(state_dict, str(out), metadata=meta)
    else:
        torch.save({'state_dict': state_dict, 'meta': meta}, out)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if args.unsafe_load:
        compat.allow_unsafe_load()
    checkpoint = compat.load_checkpoint_file(args.src)
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
    )
    save_weights(state_dict, meta, args.out)
    print(f'wrote {len(state_dict)} tensors to {args.out}')
    return 0


if __name__ == '__main__':
    sys.exit(main())
