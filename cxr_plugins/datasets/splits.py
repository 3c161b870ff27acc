"""Deterministic, seeded patient-level splits and label fractions.

Images of one patient always land in the same split (no patient leakage), and
label-efficiency subsets (1 % / 10 %) draw whole patients, as the MRM paper's
NIH lists do (https://arxiv.org/abs/2301.13155).
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np


def _shuffled_patients(patient_ids: np.ndarray, seed: int) -> np.ndarray:
    """Unique patient ids (sorted, so input order does not matter), permuted."""
    unique = np.unique(np.asarray(patient_ids).astype(str))
    return np.random.default_rng(seed).permutation(unique)


def patient_split_mask(
    patient_ids: np.ndarray, ratios: Mapping[str, float], split: str, seed: int = 0
) -> np.ndarray:
    """Boolean mask of the images whose patient falls in ``split``.

    Patients are shuffled with ``seed`` and cut in the order of ``ratios``
    (e.g. ``dict(train=0.6, val=0.2, test=0.2)``); cut points are rounded
    cumulative fractions of the patient count, so the splits partition the
    patients exactly.
    """
    if split not in ratios:
        raise KeyError(f'split {split!r} is not one of {list(ratios)}')
    fractions = np.array([float(v) for v in ratios.values()])
    if (fractions < 0).any() or not np.isclose(fractions.sum(), 1.0):
        raise ValueError(f'patient_split ratios must be >= 0 and sum to 1: {ratios}')
    patients = _shuffled_patients(patient_ids, seed)
    cuts = np.rint(np.cumsum(fractions) * len(patients)).astype(int)
    starts = np.concatenate([[0], cuts[:-1]])
    position = list(ratios).index(split)
    chosen = patients[starts[position] : cuts[position]]
    return np.isin(np.asarray(patient_ids).astype(str), chosen)


def patient_fraction_mask(
    patient_ids: np.ndarray, fraction: float, seed: int = 0
) -> np.ndarray:
    """Boolean mask keeping a seeded ``fraction`` of the patients (at least 1)."""
    if not 0.0 < fraction <= 1.0:
        raise ValueError(f'fraction must be in (0, 1], got {fraction}')
    if fraction == 1.0:
        return np.ones(len(patient_ids), dtype=bool)
    patients = _shuffled_patients(patient_ids, seed)
    keep = max(1, int(round(fraction * len(patients))))
    return np.isin(np.asarray(patient_ids).astype(str), patients[:keep])
