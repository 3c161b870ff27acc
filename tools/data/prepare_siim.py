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

Example::

    python tools/data/prepare_siim.py --rle-csv train-rle.csv \
        --images dicom-images-train/ --out-dir data/siim_acr
"""

from __future__ import annotations

import argparse
import csv
import json
import sys
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
from cxr_plugins.datasets.transforms.loading import read_dicom_grey

IMAGE_SUFFIXES = ('.dcm', '.png', '.jpg', '.jpeg')


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
        '--split-list',
        action='append',
        default=[],
        metavar='NAME=FILE',
        help='use a given list of ImageIds as split NAME '
        '(repeatable); default: a patient-level hash split',
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
        '--positives-only',
        action='store_true',
        help='keep pneumothorax-positive images only (EVA-X)',
    )
    parser.add_argument(
        '--skip-missing-images',
        action='store_true',
        help='leave out (and count) ImageIds without an image file instead of failing',
    )
    return parser.parse_args(argv)


def find_images(folder: Path) -> dict[str, Path]:
    """ImageId -> image file, for every DICOM/PNG/JPEG below ``folder``."""
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

    return str(pydicom.dcmread(str(path), stop_before_pixels=True).PatientID)


def read_image(path: Path) -> np.ndarray:
    """8-bit grey image from a DICOM, PNG or JPEG file.

    DICOMs are decoded like every other X-ray in the suite
    (:func:`cxr_plugins.datasets.transforms.loading.read_dicom_grey`: modality
    and VOI LUT or window, MONOCHROME1 inverted).
    """
    if path.suffix.lower() == '.dcm':
        return read_dicom_grey(str(path))
    image = cv2.imread(str(path), cv2.IMREAD_GRAYSCALE)
    if image is None:
        raise OSError(f'cannot read image {path}')
    return image


def main(argv: list[str] | None = None) -> dict:
    args = parse_args(argv)
    encodings = read_rle_csv(args.rle_csv)
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
    available = [image_id for image_id in encodings if image_id in images]

    patients = {
        image_id: read_patient_id(images[image_id]) or image_id
        for image_id in available
    }

    if args.split_list:
        lists = {}
        for item in args.split_list:
            name, sep, file = item.partition('=')
            if not sep or not name:
                sys.exit(f'--split-list expects NAME=FILE, got {item!r}')
            lists[name] = read_id_list(file).tolist()
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

    out = Path(args.out_dir)
    (out / 'splits').mkdir(parents=True, exist_ok=True)
    meta_rows = []
    for split, ids in members.items():
        (out / 'img_dir' / split).mkdir(parents=True, exist_ok=True)
        (out / 'ann_dir' / split).mkdir(parents=True, exist_ok=True)
        for image_id in ids:
            image = read_image(images[image_id])
            mask = union_mask(encodings[image_id], *image.shape)
            cv2.imwrite(str(out / 'img_dir' / split / f'{image_id}.png'), image)
            cv2.imwrite(str(out / 'ann_dir' / split / f'{image_id}.png'), mask)
            rles = encodings[image_id]
            meta_rows.append(
                dict(
                    ImageId=image_id,
                    split=split,
                    pneumothorax=int(is_positive(rles)),
                    n_instances=sum(is_positive([r]) for r in rles),
                    patient_id=patients[image_id],
                )
            )
        (out / 'splits' / f'{split}.txt').write_text(
            ''.join(f'{image_id}\n' for image_id in ids)
        )
    with open(out / 'meta.csv', 'w', newline='') as handle:
        writer = csv.DictWriter(
            handle,
            fieldnames=list(meta_rows[0])
            if meta_rows
            else ['ImageId', 'split', 'pneumothorax', 'n_instances', 'patient_id'],
        )
        writer.writeheader()
        writer.writerows(meta_rows)
    summary = dict(
        rle=stats,
        missing_images=len(missing),
        left_out_of_split_lists=unavailable,
        overlaps=overlaps,
        splits={name: len(ids) for name, ids in members.items()},
    )
    (out / 'summary.json').write_text(json.dumps(summary, indent=2))
    print(json.dumps(summary))
    return summary


if __name__ == '__main__':
    main()
