"""Subgroup membership from per-sample metadata (sex, view, site, age bins).

Subgroup AUCs are the standard check for performance gaps across patient
groups in chest X-ray models (Seyyed-Kalantari et al., "Underdiagnosis bias of
artificial intelligence algorithms applied to chest radiographs in
under-served patient populations", Nature Medicine 2021, report AUC per sex
and age group). The datasets carry ``sex``, ``age``, ``view`` and ``site``
into each sample's metainfo; this module turns those values into group labels.
The AUC maths (with the same patient resamples as the overall interval, so a
gap between groups gets a paired interval) is in
:mod:`cxr_plugins.evaluation.metrics.clinical`.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

#: Metadata keys the datasets put into each sample (DataSample metainfo).
META_KEYS = ('patient_id', 'sex', 'age', 'view', 'site')
#: Lower edges (years) of the age bins after the first: ``<40, 40-59, 60-79, >=80``.
DEFAULT_AGE_EDGES = (40, 60, 80)
#: Ages outside this range (NIH has a few entries of 400+ years) count as missing.
PLAUSIBLE_AGE = (0, 120)
#: Subgroup names accepted besides the raw metadata keys.
DERIVED = {'age_bin': 'age'}


def is_missing(value: object) -> bool:
    """``None``, empty or NaN-like values (``''``, ``'nan'``, ``float('nan')``)."""
    if value is None:
        return True
    if isinstance(value, float) and math.isnan(value):
        return True
    return isinstance(value, str) and value.strip().lower() in ('', 'nan', 'none')


def age_bin_labels(edges: Sequence[int] = DEFAULT_AGE_EDGES) -> list[str]:
    """Names of the bins for ``edges`` (``(40, 60, 80)`` -> ``<40 ... >=80``)."""
    labels = [f'<{edges[0]}']
    labels += [f'{low}-{high - 1}' for low, high in zip(edges[:-1], edges[1:])]
    return labels + [f'>={edges[-1]}']


def age_bin(age: object, edges: Sequence[int] = DEFAULT_AGE_EDGES) -> str | None:
    """Age bin label of one age in years; ``None`` if missing or implausible."""
    if is_missing(age):
        return None
    try:
        years = float(age)
    except (TypeError, ValueError):
        return None
    if not PLAUSIBLE_AGE[0] <= years <= PLAUSIBLE_AGE[1]:
        return None
    return age_bin_labels(edges)[int(np.searchsorted(edges, years, side='right'))]


def subgroup_values(
    name: str, meta: dict[str, list], age_edges: Sequence[int] = DEFAULT_AGE_EDGES
) -> np.ndarray | None:
    """Group label of every sample for subgroup ``name``, ``None`` where missing.

    Args:
        name: A metadata key (``sex``, ``view``, ``site``) or ``age_bin``.
        meta: ``{key: per-sample values}``; a key absent from every sample is
            absent here.
        age_edges: Bin edges for ``age_bin``.

    Returns:
        ``(N,)`` object array of group labels (``None`` = missing), or ``None``
        when the dataset does not provide the key at all.
    """
    source = DERIVED.get(name, name)
    if source not in meta:
        return None
    if name == 'age_bin':

        def label(value: object) -> str | None:
            return age_bin(value, age_edges)
    else:

        def label(value: object) -> str | None:
            return None if is_missing(value) else str(value)

    # Few distinct values (sexes, views, ages): label each once.
    labels: dict = {}
    for value in meta[source]:
        if value not in labels:
            labels[value] = label(value)
    return np.array([labels[value] for value in meta[source]], dtype=object)


def check_subgroup_names(names: Sequence[str]) -> None:
    """Raise for a subgroup that is neither a metadata key nor derived."""
    # Raw age would make one group per year; it is used through age_bin.
    known = set(META_KEYS) - {'patient_id', 'age'} | set(DERIVED)
    unknown = [name for name in names if name not in known]
    if unknown:
        raise ValueError(
            f'subgroups {unknown} unknown; choose from {sorted(known)} '
            '(age_bin bins the age key)'
        )
