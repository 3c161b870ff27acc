"""Label harmonisation: one pathology vocabulary across chest X-ray datasets.

NIH writes "Effusion", CheXpert and MIMIC-CXR "Pleural Effusion"; RSNA and
COVIDx are single-label. To train on one dataset and test on another on their
shared findings (what torchxrayvision, Cohen et al., MIDL 2022,
https://arxiv.org/abs/2111.00595, does with its ``relabel_dataset``), every
dataset's classes map onto :data:`CANONICAL_FINDINGS`; a canonical finding the
source does not label becomes ``-1`` (masked out of ``CXRMaskedBCELoss`` and
of the AUC), never 0, which would claim "absent".

The mappings are stated from each dataset's own label list (the files under
``../shared/data/labels`` are checked against them in the tests):

* NIH ChestX-ray14 ``Finding Labels`` (14 findings + ``No Finding``);
* CheXpert ``train.csv`` and MIMIC-CXR ``-chexpert`` / ``-negbio`` tables (the
  same 14 CheXpert labeller observations);
* RSNA Pneumonia (``Target`` 1 = opacity suggestive of pneumonia);
* COVIDx 9A/9B (normal / pneumonia / COVID-19; negative / positive);
* the ieee8023 COVID-19 collection ``finding`` column (pathogens are all
  pneumonias; ``"COVID-19, ARDS"`` lists two findings).

PadChest (174 UMLS-coded labels) and VinDr-CXR are not mapped: no label file
of theirs is here to check a mapping against.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np

#: The canonical vocabulary (CheXpert spelling, plus NIH-only and COVID terms).
CANONICAL_FINDINGS = (
    'Atelectasis',
    'Cardiomegaly',
    'Consolidation',
    'Edema',
    'Effusion',
    'Emphysema',
    'Enlarged Cardiomediastinum',
    'Fibrosis',
    'Fracture',
    'Hernia',
    'Infiltration',
    'Lung Lesion',
    'Lung Opacity',
    'Mass',
    'Nodule',
    'Pleural Other',
    'Pleural Thickening',
    'Pneumonia',
    'Pneumothorax',
    'Support Devices',
    'COVID-19',
    'ARDS',
    'No Finding',
)

_CHEXPERT_LABELS = {
    'No Finding': ('No Finding',),
    'Enlarged Cardiomediastinum': ('Enlarged Cardiomediastinum',),
    'Cardiomegaly': ('Cardiomegaly',),
    'Lung Opacity': ('Lung Opacity',),
    'Lung Lesion': ('Lung Lesion',),
    'Edema': ('Edema',),
    'Consolidation': ('Consolidation',),
    'Pneumonia': ('Pneumonia',),
    'Atelectasis': ('Atelectasis',),
    'Pneumothorax': ('Pneumothorax',),
    'Pleural Effusion': ('Effusion',),
    'Pleural Other': ('Pleural Other',),
    'Fracture': ('Fracture',),
    'Support Devices': ('Support Devices',),
}
_PNEUMONIA_PATHOGENS = (
    'SARS',
    'Pneumocystis',
    'Streptococcus',
    'Klebsiella',
    'Mycoplasma Bacterial Pneumonia',
    'Legionella',
    'Lipoid',
    'Varicella',
    'E.Coli',
    'Bacterial',
    'Influenza',
    'Pneumonia',
    'MERS-CoV',
    'Chlamydophila',
    'Aspergillosis',
    'Nocardia',
    'Herpes pneumonia',
)

#: Source label -> canonical findings it asserts, per dataset.
SOURCE_MAPPINGS: dict[str, dict[str, tuple[str, ...]]] = {
    'nih': {
        **{
            name: (name,)
            for name in (
                'Atelectasis',
                'Cardiomegaly',
                'Effusion',
                'Infiltration',
                'Mass',
                'Nodule',
                'Pneumonia',
                'Pneumothorax',
                'Consolidation',
                'Edema',
                'Emphysema',
                'Fibrosis',
                'Hernia',
                'No Finding',
            )
        },
        'Pleural_Thickening': ('Pleural Thickening',),
    },
    'chexpert': _CHEXPERT_LABELS,
    'mimic_cxr': _CHEXPERT_LABELS,
    'rsna': {'pneumonia': ('Pneumonia',), 'normal': ()},
    'covidx': {
        'normal': (),
        'pneumonia': ('Pneumonia',),
        'COVID-19': ('COVID-19', 'Pneumonia'),
        'negative': (),
        'positive': ('COVID-19', 'Pneumonia'),
    },
    'covid_ieee8023': {
        'No Finding': ('No Finding',),
        'COVID-19': ('COVID-19', 'Pneumonia'),
        'ARDS': ('ARDS',),
        'COVID-19, ARDS': ('COVID-19', 'Pneumonia', 'ARDS'),
        'Tuberculosis': (),
        **{name: ('Pneumonia',) for name in _PNEUMONIA_PATHOGENS},
    },
}


def covered_findings(
    source: str | Mapping[str, Sequence[str]] | None, classes: Sequence[str]
) -> tuple[str, ...]:
    """The canonical findings that ``classes`` of ``source`` label (positive
    or negative), in canonical order.

    A single-label dataset labels every finding one of its classes asserts
    (its other classes are then negatives for it): RSNA covers Pneumonia.
    """
    mapping = source_mapping(source, classes)
    unknown = [name for name in classes if name not in mapping]
    if unknown:
        raise KeyError(
            f'classes {unknown} have no canonical mapping for source {source!r}; '
            f'known: {sorted(mapping)}'
        )
    targets = {t for name in classes for t in mapping[name]}
    return tuple(name for name in CANONICAL_FINDINGS if name in targets)


def source_mapping(
    source: str | Mapping[str, Sequence[str]] | None, classes: Sequence[str] = ()
) -> dict:
    """A named mapping of :data:`SOURCE_MAPPINGS`, a user's own ``{label:
    [canonical, ...]}`` (checked against the vocabulary), or ``None``: each of
    ``classes`` that is a canonical name maps to itself."""
    if source is None:
        source = {name: (name,) for name in classes if name in CANONICAL_FINDINGS}
    if isinstance(source, str):
        if source not in SOURCE_MAPPINGS:
            raise KeyError(
                f'label source {source!r} is not one of {sorted(SOURCE_MAPPINGS)}'
            )
        return SOURCE_MAPPINGS[source]
    mapping = {
        k: (v,) if isinstance(v, str) else tuple(v) for k, v in dict(source).items()
    }
    bad = sorted({t for v in mapping.values() for t in v} - set(CANONICAL_FINDINGS))
    if bad:
        raise KeyError(f'{bad} are not canonical findings {list(CANONICAL_FINDINGS)}')
    return mapping


def harmonise_labels(
    labels: np.ndarray,
    classes: Sequence[str],
    source: str | Mapping[str, Sequence[str]] | None,
    targets: Sequence[str] = CANONICAL_FINDINGS,
) -> np.ndarray:
    """Dataset labels -> float32 (N, len(targets)) over canonical findings.

    Args:
        labels: Multi-label (N, C) with 1 / 0 / -1 (ignored), or single-label
            (N,) class indices into ``classes``.
        classes: The dataset's class names.
        source: Key of :data:`SOURCE_MAPPINGS`, an explicit mapping, or
            ``None`` (canonical class names map to themselves).
        targets: Output findings, e.g. the findings two datasets share.

    Returns:
        1 where any source label asserting the finding is 1; else 0 where the
        source labels the finding (some mapped label is 0); else -1 (not
        labelled by this dataset, or only ignored entries).
    """
    mapping = source_mapping(source, classes)
    unknown = [t for t in targets if t not in CANONICAL_FINDINGS]
    if unknown:
        raise KeyError(f'{unknown} are not canonical findings')
    missing = [name for name in classes if name not in mapping]
    if missing:
        raise KeyError(f'classes {missing} have no canonical mapping for {source!r}')
    labels = np.asarray(labels)
    if labels.ndim == 1:
        onehot = np.zeros((len(labels), len(classes)), dtype=np.float32)
        onehot[np.arange(len(labels)), labels.astype(np.int64)] = 1.0
        labels = onehot
    out = np.full((len(labels), len(targets)), -1.0, dtype=np.float32)
    for column, target in enumerate(targets):
        sources = [i for i, name in enumerate(classes) if target in mapping[name]]
        if not sources:
            continue
        values = labels[:, sources]
        labelled = (values != -1).any(axis=1)
        positive = (values == 1).any(axis=1)
        out[labelled, column] = 0.0
        out[positive, column] = 1.0
    return out


def shared_findings(*covered: Sequence[str]) -> tuple[str, ...]:
    """Canonical findings every one of ``covered`` labels (canonical order)."""
    common = set(CANONICAL_FINDINGS)
    for findings in covered:
        common &= set(findings)
    return tuple(name for name in CANONICAL_FINDINGS if name in common)
