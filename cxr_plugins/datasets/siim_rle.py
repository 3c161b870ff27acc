"""SIIM-ACR pneumothorax preparation: RLE codec, mask building and splits.

The SIIM-ACR Pneumothorax Segmentation challenge (Kaggle 2019,
https://www.kaggle.com/c/siim-acr-pneumothorax-segmentation) ships its masks
as run-length encodings in ``train-rle.csv``: one row per pneumothorax
instance, ``-1`` for an image without pneumothorax. The encoding is
column-major (pixels are numbered down the columns) and each start offset is
relative to the end of the previous run. Used by MRM (Zhou et al., ICLR 2023,
https://arxiv.org/abs/2301.13155) and EVA-X (https://arxiv.org/abs/2405.05237);
neither seed ships a tested converter, so these pure functions are ours.
"""

from __future__ import annotations

import csv
import gzip
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path

import numpy as np

#: Value of ``EncodedPixels`` for an image without pneumothorax.
NO_PNEUMOTHORAX = '-1'


def parse_rle(rle: str) -> np.ndarray:
    """Parse one SIIM run-length string into ``(N, 2)`` (relative start, length) pairs.

    ``'-1'`` (no pneumothorax) gives an empty ``(0, 2)`` array.

    Raises:
        ValueError: On an empty string, a token that is not a non-negative
            integer (naming its position and text) or an odd number of values.
    """
    text = rle.strip()
    if not text:
        raise ValueError('empty RLE string (SIIM writes -1 for no pneumothorax)')
    if text == NO_PNEUMOTHORAX:
        return np.zeros((0, 2), dtype=np.int64)
    tokens = text.split()
    for position, token in enumerate(tokens, start=1):
        if not token.isdigit():
            raise ValueError(
                f'RLE value {position} is {token!r}, expected a non-negative '
                'integer (or -1 alone for no pneumothorax)'
            )
    if len(tokens) % 2:
        raise ValueError(
            f'RLE has an odd number of values ({len(tokens)}); expected '
            '(start, length) pairs'
        )
    return np.asarray(tokens, dtype=np.int64).reshape(-1, 2)


def rle_end(pairs: np.ndarray) -> int:
    """Flat (column-major) pixel index just past the last run of parsed pairs."""
    return int(pairs.sum())


def rle_decode(rle: str, height: int, width: int) -> np.ndarray:
    """Decode one SIIM run-length string into a ``(height, width)`` 0/1 mask.

    Args:
        rle: Space-separated ``start length`` pairs; each start is relative to
            the end of the previous run; pixels are counted column by column.
            ``'-1'`` decodes to an empty mask; an empty string is an error.
        height: Image height in pixels.
        width: Image width in pixels.

    Returns:
        ``uint8`` array with 1 inside the runs.

    Raises:
        ValueError: As :func:`parse_rle`, or when a run leaves the image.
    """
    pairs = parse_rle(rle)
    end = rle_end(pairs)
    if end > height * width:
        raise ValueError(
            f'RLE runs end at pixel {end}, which leaves the {height}x{width} image '
            f'({height * width} pixels): the mask is for a larger image'
        )
    flat = np.zeros(height * width, dtype=np.uint8)
    position = 0
    for relative_start, length in pairs:
        start = position + int(relative_start)
        position = start + int(length)
        flat[start:position] = 1
    return flat.reshape(width, height).T


def rle_encode(mask: np.ndarray) -> str:
    """Encode a 2-D binary mask as a SIIM relative, column-major RLE string.

    The inverse of :func:`rle_decode`; an empty mask encodes to ``'-1'``.
    """
    flat = (np.asarray(mask).T.reshape(-1) > 0).astype(np.int8)
    padded = np.concatenate([[0], flat, [0]])
    changes = np.flatnonzero(np.diff(padded))
    if changes.size == 0:
        return NO_PNEUMOTHORAX
    starts, ends = changes[0::2], changes[1::2]
    previous_ends = np.concatenate([[0], ends[:-1]])
    pairs = np.stack([starts - previous_ends, ends - starts], axis=1)
    return ' '.join(str(v) for v in pairs.reshape(-1))


def read_rle_csv(
    path: str | Path, image_size: tuple[int, int] | None = None
) -> dict[str, list[str]]:
    """Read ``train-rle.csv`` (plain or ``.gz``) into ImageId -> RLE strings.

    Column names are stripped, so the official header ``ImageId,
    EncodedPixels`` (with its leading space) is accepted. Rows of a negative
    image hold ``'-1'``; a positive image has one string per instance. Order of
    first appearance is kept. Every string is parsed here (:func:`parse_rle`),
    so a bad token is reported with the file, line and ImageId before anything
    uses the table.

    Args:
        path: The CSV file.
        image_size: ``(height, width)`` the masks are encoded for (SIIM:
            1024x1024); when given, a row whose runs end past it is an error.

    Raises:
        KeyError: If the header lacks ``ImageId`` or ``EncodedPixels``.
        ValueError: For an empty file or a malformed row, naming the line.
    """
    path = Path(path)
    opener = gzip.open if path.suffix == '.gz' else open
    with opener(path, 'rt', newline='') as handle:
        reader = csv.reader(handle)
        header = [name.strip() for name in next(reader, [])]
        if not header:
            raise ValueError(
                f'{path}: file is empty; expected a header "ImageId, '
                'EncodedPixels" and one row per image or instance'
            )
        for column in ('ImageId', 'EncodedPixels'):
            if column not in header:
                raise KeyError(
                    f'{path}, line 1: column {column!r} not found in header {header}'
                )
        id_col, rle_col = header.index('ImageId'), header.index('EncodedPixels')
        encodings: dict[str, list[str]] = {}
        for line, row in enumerate(reader, start=2):
            if not row:
                continue
            if len(row) <= max(id_col, rle_col) or not row[rle_col].strip():
                raise ValueError(
                    f'{path}, line {line}: expected an ImageId and an '
                    f'EncodedPixels value (RLE or -1), got {row}'
                )
            image_id, rle = row[id_col].strip(), row[rle_col].strip()
            try:
                pairs = parse_rle(rle)
            except ValueError as error:
                raise ValueError(
                    f'{path}, line {line}, ImageId {image_id}: {error}'
                ) from error
            if (
                image_size is not None
                and rle_end(pairs) > image_size[0] * image_size[1]
            ):
                raise ValueError(
                    f'{path}, line {line}, ImageId {image_id}: RLE runs end at '
                    f'pixel {rle_end(pairs)}, past the {image_size[0]}x'
                    f'{image_size[1]} image the masks are encoded for'
                )
            encodings.setdefault(image_id, []).append(rle)
    if not encodings:
        raise ValueError(f'{path}: the file has a header but no rows')
    return encodings


def is_positive(rles: Sequence[str]) -> bool:
    """Whether any instance of an image has a pneumothorax run."""
    return any(rle != NO_PNEUMOTHORAX for rle in rles)


def union_mask(rles: Iterable[str], height: int, width: int) -> np.ndarray:
    """Union (logical OR) of all instance masks of one image, as 0/1 uint8."""
    mask = np.zeros((height, width), dtype=np.uint8)
    for rle in rles:
        mask |= rle_decode(rle, height, width)
    return mask


def rle_statistics(encodings: Mapping[str, Sequence[str]]) -> dict[str, int]:
    """Row, image and positive-image counts of a parsed RLE file."""
    return dict(
        rows=sum(len(rles) for rles in encodings.values()),
        images=len(encodings),
        positive=sum(is_positive(rles) for rles in encodings.values()),
    )
