"""A pre-resized uint8 image cache in memory-mapped numpy files, for repeated epochs.

Decoding a 1024-px JPEG costs several milliseconds per image and epoch; reading
a pre-resized grey copy from a memory-mapped array costs microseconds and the
pages are shared by all dataloader workers through the OS page cache. Each
image is stored once, resized so that its longer side is ``size`` (aspect kept),
in the top-left corner of an ``(N, size, size)`` uint8 array.

Layout of a cache directory (written by ``tools/data/build_image_cache.py``):

- ``images.npy``: ``(N, size, size)`` uint8, opened with ``mmap_mode='r'``.
- ``shapes.npy``: ``(N, 2)`` int32, the stored ``(height, width)`` of each image.
- ``keys.txt``: one path per line, relative to the root the cache was built
  from, in the order of ``images.npy``.
- ``meta.json``: ``size``, ``count``, ``root``, ``format_version``.

What no library does: mmengine and mmpretrain have no decoded-image cache.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable
from pathlib import Path

import numpy as np

from cxr_plugins.datasets.transforms.grey_decoding import (
    decode_grey_region,
    resize_grey,
)
from cxr_plugins.datasets.transforms.loading import raster_size

FORMAT_VERSION = 1


def cache_key(path: str | os.PathLike, root: str | os.PathLike) -> str:
    """The key of ``path`` in a cache built from ``root`` (POSIX, relative).

    Both sides are resolved (symlinks followed), so a data folder reached
    through a link finds the entries of a cache built from its real path.
    """
    relative = os.path.relpath(os.path.realpath(path), os.path.realpath(root))
    return Path(relative).as_posix()


def fit_longer_side(height: int, width: int, size: int) -> tuple[int, int]:
    """``(height, width)`` scaled so that the longer side is ``size``."""
    factor = size / max(height, width)
    return max(1, round(height * factor)), max(1, round(width * factor))


def load_resized_grey(path: str | os.PathLike, size: int) -> np.ndarray:
    """Decode ``path`` in grey (JPEG at a DCT scale that keeps ``size``) and fit it."""
    height, width = raster_size(path)  # BadXRayImageError naming the file
    out_h, out_w = fit_longer_side(height, width, size)

    def whole_image(height: int, width: int) -> tuple[int, int, int, int]:
        return 0, 0, height, width

    image, _, _ = decode_grey_region(path, whole_image, out_size=min(out_h, out_w))
    return resize_grey(image, out_h, out_w)


def build_image_cache(
    paths: Iterable[str | os.PathLike],
    root: str | os.PathLike,
    cache_dir: str | os.PathLike,
    size: int,
) -> int:
    """Write the cache of ``paths`` (JPEG/PNG) to ``cache_dir``; returns the count."""
    paths = list(paths)
    if not paths:
        raise ValueError(f'no images to cache under {root}')
    cache_dir = Path(cache_dir)
    cache_dir.mkdir(parents=True, exist_ok=True)
    images = np.lib.format.open_memmap(
        cache_dir / 'images.npy',
        mode='w+',
        dtype=np.uint8,
        shape=(len(paths), size, size),
    )
    shapes = np.zeros((len(paths), 2), dtype=np.int32)
    keys = []
    for index, path in enumerate(paths):
        resized = load_resized_grey(path, size)
        images[index, : resized.shape[0], : resized.shape[1]] = resized
        shapes[index] = resized.shape
        keys.append(cache_key(path, root))
    images.flush()
    del images
    np.save(cache_dir / 'shapes.npy', shapes)
    (cache_dir / 'keys.txt').write_text('\n'.join(keys) + '\n')
    (cache_dir / 'meta.json').write_text(
        json.dumps(
            dict(
                size=size,
                count=len(paths),
                root=str(Path(root).resolve()),
                format_version=FORMAT_VERSION,
            ),
            indent=1,
        )
    )
    return len(paths)


class XRayImageCache:
    """Read-only view of a cache directory; the arrays open lazily, per process.

    Args:
        cache_dir: A directory written by :func:`build_image_cache`.
        data_root: Root that ``img_path`` values are relative to; defaults to
            the root recorded when the cache was built.
    """

    def __init__(
        self, cache_dir: str | os.PathLike, data_root: str | os.PathLike | None = None
    ) -> None:
        self.cache_dir = Path(cache_dir)
        meta_file = self.cache_dir / 'meta.json'
        if not meta_file.is_file():
            raise FileNotFoundError(
                f'{meta_file} not found: build the cache with '
                'tools/data/build_image_cache.py'
            )
        self.meta = json.loads(meta_file.read_text())
        if self.meta.get('format_version') != FORMAT_VERSION:
            raise ValueError(
                f'{meta_file}: format_version '
                f'{self.meta.get("format_version")!r}, expected '
                f'{FORMAT_VERSION}; rebuild the cache'
            )
        self.data_root = str(data_root) if data_root is not None else self.meta['root']
        self._images: np.ndarray | None = None
        self._shapes: np.ndarray | None = None
        self._index: dict[str, int] | None = None

    def _open(self) -> None:
        self._images = np.load(self.cache_dir / 'images.npy', mmap_mode='r')
        self._shapes = np.load(self.cache_dir / 'shapes.npy')
        keys = (self.cache_dir / 'keys.txt').read_text().splitlines()
        if len(keys) != len(self._images) or len(self._shapes) != len(self._images):
            raise ValueError(
                f'{self.cache_dir}: {len(keys)} keys, '
                f'{len(self._shapes)} shapes and {len(self._images)} '
                'images; the cache is incomplete, rebuild it'
            )
        self._index = {key: index for index, key in enumerate(keys)}

    def __len__(self) -> int:
        return int(self.meta['count'])

    def get(self, path: str | os.PathLike) -> np.ndarray:
        """The stored grey image of ``path`` (a read-only memory-mapped view)."""
        if self._index is None:
            self._open()
        key = cache_key(path, self.data_root)
        if key not in self._index:
            raise KeyError(
                f'{path} (key {key!r}) is not in the cache '
                f'{self.cache_dir} built from {self.data_root}'
            )
        index = self._index[key]
        height, width = self._shapes[index]
        return self._images[index, :height, :width]
