"""Build a pre-resized uint8 image cache for ``CachedXRayRandomResizedCrop``.

``python tools/data/build_image_cache.py ROOT OUT_DIR [--size 512] [--list FILE]``

Caches every ``.jpg/.jpeg/.png`` under ``ROOT`` (or the paths in ``--list``,
one per line, relative to ``ROOT``), each resized so that its longer side is
``--size``. See ``cxr_plugins/datasets/transforms/image_cache.py`` for the
layout.

Example::

    python tools/data/build_image_cache.py data/demo/nih14_64px/images \\
        work_dirs/image_cache --size 64
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

from cxr_plugins.datasets.transforms.image_cache import build_image_cache

IMAGE_SUFFIXES = {'.jpg', '.jpeg', '.png'}


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('root', type=Path,
                        help='image root; cache keys are relative to it')
    parser.add_argument('out_dir', type=Path, help='cache directory to write')
    parser.add_argument('--size', type=int, default=512,
                        help='longer side of the stored images (default 512)')
    parser.add_argument('--list', type=Path, dest='list_file',
                        help='text file of image paths relative to ROOT, one per line')
    return parser.parse_args(argv)


def list_images(root: Path, list_file: Path | None) -> list[Path]:
    """The images to cache, in a fixed order."""
    if list_file is None:
        return sorted(path for path in root.rglob('*')
                      if path.suffix.lower() in IMAGE_SUFFIXES)
    paths = []
    for line_no, line in enumerate(list_file.read_text().splitlines(), start=1):
        if not line.strip():
            continue
        path = root / line.split()[0]
        if not path.is_file():
            raise FileNotFoundError(f'{list_file}:{line_no}: {path} does not exist')
        paths.append(path)
    return paths


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    paths = list_images(args.root, args.list_file)
    start = time.perf_counter()
    count = build_image_cache(paths, args.root, args.out_dir, args.size)
    print(f'cached {count} images at {args.size} px in {args.out_dir} '
          f'({time.perf_counter() - start:.1f} s)')


if __name__ == '__main__':
    main()
