"""Patient-id rules, written once for the datasets, the leakage check and tools.

NIH ChestX-ray14 names images ``<patient:08d>_<follow-up:03d>.png``; CheXpert
paths hold a ``patientNNNNN`` folder; RSNA's image id is the patient id. A
patient-id column read from a table must not be blank: pandas would otherwise
turn every blank cell into the one pseudo-patient ``'nan'``.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from cxr_plugins.datasets.tables import LabelTableError, extract_ids

NIH_NAME_PATTERN = r'^(\d{8})_\d{3}\.png$'


def nih_patient_from_name(
    path: str | Path, names: np.ndarray, first_line: int = 1, column: str | None = None
) -> np.ndarray:
    """NIH image names ``<patient:08d>_<follow-up:03d>.png`` -> ``'<patient>'``
    (leading zeros dropped, as in ``Data_Entry``'s ``Patient ID``)."""
    digits = extract_ids(
        path,
        np.asarray(names),
        NIH_NAME_PATTERN,
        '<8-digit patient>_<3-digit follow-up>.png name',
        first_line=first_line,
        column=column,
    )
    return digits.astype(np.int64).astype(str)


def chexpert_patient_from_path(
    path: str | Path,
    image_paths: np.ndarray,
    first_line: int,
    column: str | None = 'Path',
) -> np.ndarray:
    """``.../patient00001/study1/view1_frontal.jpg`` -> ``'patient00001'``.

    Plain ``str.find`` (a regex search is several times slower on 200k paths).
    """
    patients = []
    for row, image in enumerate(np.asarray(image_paths).tolist()):
        if image.startswith('patient'):
            start = 0
        else:
            found = image.find('/patient')
            start = found + 1 if found >= 0 else -1
        end = image.find('/', start)
        if start < 0 or end < 0 or not image[start + 7 : end].isdigit():
            raise LabelTableError(
                path,
                f'no patientNNNNN folder in {image!r}',
                line=row + first_line,
                column=column,
            )
        patients.append(image[start:end])
    return np.array(patients)


def patient_column(
    path: str | Path,
    frame: pd.DataFrame,
    column: str,
    first_line: int = 2,
    what: str = 'patient id',
) -> np.ndarray:
    """The patient ids of ``frame[column]`` as a str array; blank is an error.

    Numbers written as ``12.0`` by a spreadsheet become ``'12'``. ``what``
    names the value in the error (the same check serves image paths).

    Raises:
        LabelTableError: naming the first row whose id is blank or missing.
    """
    values = frame[column]
    text = values.astype('string').str.strip()
    blank = (text.isna() | (text == '')).to_numpy()
    if blank.any():
        row = int(np.flatnonzero(blank)[0])
        raise LabelTableError(
            path,
            f'blank {what} ({int(blank.sum())} row(s))'
            + (
                '; every image needs its patient for a leakage-free split'
                if what == 'patient id'
                else ''
            ),
            line=row + first_line,
            column=column,
        )
    if what == 'patient id':
        text = text.str.replace(r'^(\d+)\.0$', r'\1', regex=True)
    return text.to_numpy(dtype=str)
