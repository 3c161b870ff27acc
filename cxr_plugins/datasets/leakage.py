"""Patient leakage checks between splits.

A patient (or, for lists of bare image ids such as the SIIM-ACR MRM lists, an
image id) that appears in two splits inflates test metrics; this module finds
every such overlap.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from itertools import combinations

import numpy as np


class PatientLeakageError(ValueError):
    """Two splits share patients."""


def find_overlaps(groups: Mapping[str, Iterable]) -> dict[tuple[str, str], np.ndarray]:
    """Ids shared by each pair of named groups.

    Args:
        groups: Split name -> patient (or image) ids, duplicates allowed.

    Returns:
        ``{(name_a, name_b): sorted unique shared ids}`` for every pair, in the
        order of ``groups`` (empty arrays included).
    """
    unique = {
        name: np.unique(np.asarray(list(ids)).astype(str))
        for name, ids in groups.items()
    }
    return {
        (a, b): np.intersect1d(unique[a], unique[b], assume_unique=True)
        for a, b in combinations(unique, 2)
    }


def assert_no_leakage(groups: Mapping[str, Iterable], what: str = 'patient') -> None:
    """Raise :class:`PatientLeakageError` naming every overlapping pair."""
    overlaps = {pair: ids for pair, ids in find_overlaps(groups).items() if ids.size}
    if overlaps:
        lines = [
            f'{a} and {b} share {ids.size} {what}(s), e.g. {ids[:5].tolist()}'
            for (a, b), ids in overlaps.items()
        ]
        raise PatientLeakageError('; '.join(lines))


ID_SCHEMES = ('nih', 'chexpert', 'covidx', 'rsna', 'image')


def ids_from_list(path: str, scheme: str, lookup=None) -> np.ndarray:
    """Patient (or image) ids of every line of a split list.

    Args:
        path: A whitespace-separated list whose first field (second for
            COVIDx) names the image.
        scheme: ``'nih'`` (``<patient:08d>_<n>.png`` -> patient),
            ``'chexpert'`` (``.../patientNNNNN/...`` -> patient),
            ``'covidx'`` (first field is the patient id), ``'rsna'`` (file
            stem = patient id) or ``'image'`` (first field as is, e.g. the
            SIIM-ACR ImageIds: leakage is then the same image in two lists).
        lookup: Optional ``pandas.Series`` image name -> patient id (e.g. NIH
            ``Data_Entry`` ``Patient ID`` indexed by ``Image Index``); replaces
            ``scheme``'s rule, and every listed image must be in it.
    """
    from cxr_plugins.datasets.patient_ids import (
        chexpert_patient_from_path,
        nih_patient_from_name,
    )
    from cxr_plugins.datasets.tables import LabelTableError, extract_ids, read_id_list

    if scheme not in ID_SCHEMES:
        raise ValueError(f'scheme must be one of {ID_SCHEMES}, got {scheme!r}')
    first = read_id_list(path)
    if lookup is not None:
        ids = lookup.reindex(first)
        missing = ids.isna().to_numpy()
        if missing.any():
            row = int(np.flatnonzero(missing)[0])
            raise LabelTableError(
                path,
                f'{missing.sum()} image(s) not in the id table, e.g. {first[row]!r}',
                line=row + 1,
            )
        return ids.to_numpy().astype(str)
    if scheme == 'nih':
        return nih_patient_from_name(path, first)
    if scheme == 'chexpert':
        return chexpert_patient_from_path(path, first, first_line=1, column=None)
    if scheme == 'rsna':
        return extract_ids(path, first, r'([^/]+)\.dcm$', 'RSNA <patientId>.dcm name')
    return first
