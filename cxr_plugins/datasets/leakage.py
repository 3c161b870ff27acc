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
    unique = {name: np.unique(np.asarray(list(ids)).astype(str))
              for name, ids in groups.items()}
    return {(a, b): np.intersect1d(unique[a], unique[b], assume_unique=True)
            for a, b in combinations(unique, 2)}


def assert_no_leakage(groups: Mapping[str, Iterable], what: str = 'patient') -> None:
    """Raise :class:`PatientLeakageError` naming every overlapping pair."""
    overlaps = {pair: ids for pair, ids in find_overlaps(groups).items() if ids.size}
    if overlaps:
        lines = [f'{a} and {b} share {ids.size} {what}(s), e.g. {list(ids[:5])}'
                 for (a, b), ids in overlaps.items()]
        raise PatientLeakageError('; '.join(lines))
