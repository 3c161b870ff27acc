"""Convert SIIM-ACR pneumothorax data to mmseg's img_dir/ann_dir layout.

Reads the official ``train-rle.csv`` (relative, column-major RLE; several rows
per ImageId for several instances; ``-1`` = no pneumothorax) and the images,
either the challenge DICOMs (``<ImageId>.dcm``, read with pydicom) or already
converted PNG/JPEG files named ``<ImageId>.<ext>`` (searched recursively).
Writes ``img_dir/<split>/<ImageId>.png`` (8-bit grey), ``ann_dir/<split>/
<ImageId>.png`` (0/1, union of the instances), ``splits/<split>.txt`` and
``meta.csv`` (ImageId, split, pneumothorax, n_instances, patient_id).

Splits are either deterministic and patient-level (seeded hash of the DICOM
PatientID, or of the ImageId when no DICOM header is available), or given as
lists (``--split-list train=train_list.txt``), e.g. MRM's lists, whose
pairwise overlaps are counted and reported (MRM's overlap).

Nothing is written until the inputs are checked: every RLE token (errors name
the file, line and ImageId), the split names, the images' presence and, for
DICOMs, their PatientID. Images are then read with the suite's X-ray reader
(:class:`cxr_plugins.datasets.transforms.loading.LoadXRayImage`: 16-bit PNGs
min-max scaled, truncated files and images below 2x2 rejected), checked to
have the size the RLE masks are encoded for (``--rle-size``, 1024x1024 in the
challenge), and written into a hidden staging folder beside ``--out-dir`` that
is renamed into place only when complete. A non-empty ``--out-dir`` is refused
unless ``--overwrite``, which replaces it whole (never merges).

Example::

    python tools/data/prepare_siim.py --rle-csv train-rle.csv \\
        --images dicom-images-train/ --out-dir data/siim_acr
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import re
import shutil
import sys
import tempfile
from pathlib import Path

import cv2
import numpy as np

from cxr_plugins.datasets.leakage import find_overlaps
from cxr_plugins.datasets.siim_rle import (
    is_positive,
    read_rle_csv,
    rle_statistics,
    union_mask,
)
from cxr_plugins.datasets.splits import SPLIT_NAMES, split_patients
from cxr_plugins.datasets.tables import read_id_list
from cxr_plugins.datasets.transforms.loading import LoadXRayImage

IMAGE_SUFFIXES = ('.dcm', '.png', '.jpg', '.jpeg')

#: A split name becomes a folder name: letters, digits, ``_`` and ``-`` only.
SPLIT_NAME_PATTERN = re.compile(r'[A-Za-z0-9][A-Za-z0-9_-]*')


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        '--rle-csv', required=True, help='train-rle.csv (or .csv.gz) of the challenge'
    )
    parser.add_argument(
        '--images',
        required=True,
        help='folder with <ImageId>.dcm/.png/.jpg (recursive)',
    )
    parser.add_argument('--out-dir', required=True, help='output data root')
    parser.add_argument(
        '--overwrite',
        action='store_true',
        help='replace a non-empty --out-dir whole (default: refuse)',
    )
    parser.add_argument(
        '--split-list',
        action='append',
        default=[],
        metavar='NAME=FILE',
        help='use a given list of ImageIds as split NAME (letters, digits, _ '
        'and -; repeatable); default: a patient-level hash split',
    )
    parser.add_argument(
        '--ratios',
        type=float,
        nargs=3,
        default=(0.7, 0.1, 0.2),
        metavar=('TRAIN', 'VAL', 'TEST'),
    )
    parser.add_argument('--seed', type=int, default=0)
    parser.add_argument(
        '--rle-size',
        type=int,
        nargs=2,
        default=(1024, 1024),
        metavar=('HEIGHT', 'WIDTH'),
        help='image size the RLE masks are encoded for; every image must have '
        'it (default: 1024 1024, the challenge images)',
    )
    parser.add_argument(
        '--positives-only',
        action='store_true',
        help='keep pneumothorax-positive images only (EVA-X)',
    )
    parser.add_argument(
        '--skip-missing-images',
        action='store_true',
        help='leave out (and count) ImageIds without an image file instead of failing',
    )
    parser.add_argument(
        '--allow-empty-split',
        action='store_true',
        help='write a split that ends up with no image (default: an error)',
    )
    return parser.parse_args(argv)


def find_images(folder: Path) -> dict[str, Path]:
    """ImageId -> image file, for every DICOM/PNG/JPEG below ``folder``."""
    if not folder.is_dir():
        sys.exit(f'--images {folder}: no such folder')
    found: dict[str, Path] = {}
    for path in sorted(folder.rglob('*')):
        if path.suffix.lower() in IMAGE_SUFFIXES:
            if path.stem in found:
                raise ValueError(
                    f'two images for ImageId {path.stem}: {found[path.stem]} and {path}'
                )
            found[path.stem] = path
    return found


def read_patient_id(path: Path) -> str | None:
    """DICOM PatientID from the header only; ``None`` for PNG/JPEG files."""
    if path.suffix.lower() != '.dcm':
        return None
    import pydicom
    from pydicom.errors import InvalidDicomError

    try:
        header = pydicom.dcmread(str(path), stop_before_pixels=True)
    except (InvalidDicomError, EOFError, OSError) as error:
        sys.exit(f'{path}: cannot read the DICOM header ({error})')
    patient_id = str(header.get('PatientID', '') or '').strip()
    if not patient_id:
        sys.exit(
            f'{path}: DICOM has no PatientID (0010,0020); the patient-level '
            'split and meta.csv need it. Fix the header, or give the splits '
            'with --split-list and images converted to PNG'
        )
    return patient_id


def split_name(item: str) -> tuple[str, str]:
    """Parse ``NAME=FILE`` of ``--split-list``; NAME must be a plain folder name."""
    name, sep, file = item.partition('=')
    if not sep or not file:
        sys.exit(f'--split-list expects NAME=FILE, got {item!r}')
    if not SPLIT_NAME_PATTERN.fullmatch(name):
        sys.exit(
            f'--split-list {item!r}: split name {name!r} must be letters, digits, '
            '_ and - only (it becomes a folder name below --out-dir)'
        )
    return name, file


def check_out_dir(out: Path, overwrite: bool, inputs: list[Path]) -> None:
    """Refuse a non-empty ``out`` without ``--overwrite``, or one holding inputs."""
    if out.exists() and not out.is_dir():
        sys.exit(f'--out-dir {out} exists and is not a folder')
    resolved = out.resolve()
    for source in inputs:
        source = source.resolve()
        if source == resolved or resolved in source.parents:
            sys.exit(
                f'--out-dir {out} holds the input {source}; choose another '
                'output folder (it is replaced whole)'
            )
    if out.is_dir() and any(out.iterdir()) and not overwrite:
        sys.exit(
            f'--out-dir {out} is not empty; pass --overwrite to replace it whole '
            '(a merge would mix the old and new splits)'
        )


def write_png(path: Path, image: np.ndarray) -> None:
    """``cv2.imwrite`` that raises, naming the file, when it cannot write."""
    try:
        written = cv2.imwrite(str(path), image)
    except cv2.error as error:
        raise OSError(f'{path}: cannot write the PNG ({error})') from error
    if not written:
        raise OSError(f'{path}: cannot write the PNG (disk full or not writable?)')


def write_dataset(
    root: Path,
    members: dict[str, list[str]],
    images: dict[str, Path],
    encodings: dict[str, list[str]],
    patients: dict[str, str],
    rle_size: tuple[int, int],
) -> list[dict]:
    """Read, check and write every image and mask of every split below ``root``."""
    reader = LoadXRayImage(to_rgb=False)
    (root / 'splits').mkdir()
    meta_rows = []
    for split, ids in members.items():
        (root / 'img_dir' / split).mkdir(parents=True)
        (root / 'ann_dir' / split).mkdir(parents=True)
        for image_id in ids:
            image = reader.read_grey(str(images[image_id]))
            if image.shape != rle_size:
                raise ValueError(
                    f'{images[image_id]}: image is {image.shape[0]}x'
                    f'{image.shape[1]} but the RLE masks are encoded for '
                    f'{rle_size[0]}x{rle_size[1]} (--rle-size); use the '
                    'original-size images'
                )
            rles = encodings[image_id]
            mask = union_mask(rles, *image.shape)
            write_png(root / 'img_dir' / split / f'{image_id}.png', image)
            write_png(root / 'ann_dir' / split / f'{image_id}.png', mask)
            meta_rows.append(
                dict(
                    ImageId=image_id,
                    split=split,
                    pneumothorax=int(is_positive(rles)),
                    n_instances=sum(is_positive([r]) for r in rles),
                    patient_id=patients[image_id],
                )
            )
        (root / 'splits' / f'{split}.txt').write_text(
            ''.join(f'{image_id}\n' for image_id in ids)
        )
    with open(root / 'meta.csv', 'w', newline='') as handle:
        writer = csv.DictWriter(
            handle,
            fieldnames=[
                'ImageId',
                'split',
                'pneumothorax',
                'n_instances',
                'patient_id',
            ],
        )
        writer.writeheader()
        writer.writerows(meta_rows)
    return meta_rows


def move_into_place(staging: Path, out: Path) -> None:
    """Replace ``out`` (absent, empty or, with ``--overwrite``, full) by ``staging``."""
    if not out.exists():
        os.replace(staging, out)
        return
    retired = Path(tempfile.mkdtemp(prefix=f'.{out.name}.replaced-', dir=out.parent))
    os.replace(out, retired / out.name)
    os.replace(staging, out)
    shutil.rmtree(retired)


def main(argv: list[str] | None = None) -> dict:
    args = parse_args(argv)
    rle_size = tuple(args.rle_size)
    split_lists: dict[str, str] = {}
    for item in args.split_list:
        name, file = split_name(item)
        if name in split_lists:
            sys.exit(f'--split-list names split {name!r} twice')
        split_lists[name] = file
    out = Path(args.out_dir)
    check_out_dir(
        out,
        args.overwrite,
        [Path(args.rle_csv), Path(args.images), *map(Path, split_lists.values())],
    )
    try:
        encodings = read_rle_csv(args.rle_csv, image_size=rle_size)
    except (KeyError, ValueError) as error:
        sys.exit(str(error).strip('"'))
    stats = rle_statistics(encodings)
    print(
        f'{args.rle_csv}: {stats["rows"]} rows, {stats["images"]} images, '
        f'{stats["positive"]} positive'
    )
    if args.positives_only:
        encodings = {k: v for k, v in encodings.items() if is_positive(v)}
    images = find_images(Path(args.images))
    missing = [image_id for image_id in encodings if image_id not in images]
    if missing and not args.skip_missing_images:
        sys.exit(
            f'{len(missing)} ImageIds of {args.rle_csv} have no image in '
            f'{args.images} (e.g. {missing[0]}); pass --skip-missing-images '
            'to leave them out'
        )
    if missing:
        print(f'WARNING: {len(missing)} ImageIds without an image left out')
    available = [image_id for image_id in encodings if image_id in images]

    patients = {
        image_id: read_patient_id(images[image_id]) or image_id
        for image_id in available
    }

    if split_lists:
        lists = {
            name: read_id_list(file).tolist() for name, file in split_lists.items()
        }
        overlaps = {
            f'{a}&{b}': int(shared.size)
            for (a, b), shared in find_overlaps(lists).items()
        }
        for pair, count in overlaps.items():
            if count:
                print(f'WARNING: split lists overlap: {pair} share {count} ImageIds')
        members, unavailable = {}, {}
        for name, ids in lists.items():
            unique = list(dict.fromkeys(ids))
            members[name] = [i for i in unique if i in patients]
            unavailable[name] = len(unique) - len(members[name])
            if unavailable[name] and not args.skip_missing_images:
                example = next(i for i in unique if i not in patients)
                sys.exit(
                    f'--split-list {name}: {unavailable[name]} ImageIds have no '
                    f'usable RLE row and image (e.g. {example}); pass '
                    '--skip-missing-images to leave them out'
                )
            if unavailable[name]:
                print(
                    f'WARNING: --split-list {name}: {unavailable[name]} ImageIds '
                    'left out (no usable RLE row or image)'
                )
    else:
        unavailable = {}
        overlaps = {}
        assignment = split_patients(
            list(patients.values()), dict(zip(SPLIT_NAMES, args.ratios)), args.seed
        )
        members = {
            name: [i for i in available if assignment[patients[i]] == name]
            for name in ('train', 'val', 'test')
        }
    empty = [name for name, ids in members.items() if not ids]
    if empty and not args.allow_empty_split:
        sys.exit(
            f'split(s) {empty} would hold no image ({len(available)} images in '
            f'all, {len(set(patients.values()))} patients); change --ratios / '
            '--split-list, or pass --allow-empty-split to write them empty'
        )
    if empty:
        print(f'WARNING: split(s) {empty} written empty (--allow-empty-split)')

    out.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f'.{out.name}.staging-', dir=out.parent))
    try:
        write_dataset(staging, members, images, encodings, patients, rle_size)
        summary = dict(
            rle=stats,
            missing_images=len(missing),
            left_out_of_split_lists=unavailable,
            overlaps=overlaps,
            splits={name: len(ids) for name, ids in members.items()},
        )
        (staging / 'summary.json').write_text(json.dumps(summary, indent=2))
        move_into_place(staging, out)
    finally:
        if staging.exists():
            shutil.rmtree(staging)
    print(json.dumps(summary))
    return summary


if __name__ == '__main__':
    main()
