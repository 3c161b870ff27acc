"""Canonical findings: mappings checked against the real label files."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from cxr_plugins.datasets import (
    CHEXPERT_CLASSES,
    COVIDX_2_CLASSES,
    COVIDX_3_CLASSES,
    NIH_CLASSES,
    CheXpert,
    COVIDx,
    NIHChestXray14,
    RSNAPneumonia,
)
from cxr_plugins.datasets.harmonise import (
    CANONICAL_FINDINGS,
    SOURCE_MAPPINGS,
    covered_findings,
    harmonise_labels,
    shared_findings,
)
from cxr_plugins.datasets.mimic_cxr import MIMIC_LABEL_COLUMNS

NIH_CHEXPERT_SHARED = (
    'Atelectasis',
    'Cardiomegaly',
    'Consolidation',
    'Edema',
    'Effusion',
    'Pneumonia',
    'Pneumothorax',
)


def test_every_real_label_has_a_mapping(shared_data):
    labels = shared_data / 'labels'
    entry = pd.read_csv(labels / 'nih_cxr14/Data_Entry_2017_v2020.csv.gz')
    nih = set(entry['Finding Labels'].str.split('|').explode())
    assert nih == set(NIH_CLASSES) | {'No Finding'}
    assert nih <= set(SOURCE_MAPPINGS['nih'])
    chexpert = pd.read_csv(labels / 'chexpert/chexpert_train.csv.gz', nrows=5)
    columns = list(chexpert.columns[5:])
    assert columns == list(CHEXPERT_CLASSES)
    assert set(columns) == set(SOURCE_MAPPINGS['chexpert'])
    assert set(MIMIC_LABEL_COLUMNS) == set(SOURCE_MAPPINGS['mimic_cxr'])
    for name in ('train_COVIDx9A.txt', 'train_COVIDx9B.txt'):
        values = pd.read_csv(labels / 'covidx' / name, sep=r'\s+', header=None)[2]
        assert set(values) <= set(SOURCE_MAPPINGS['covidx']), name
    findings = pd.read_csv(shared_data / 'covid_cxr/metadata.csv')['finding']
    assert set(findings) <= set(SOURCE_MAPPINGS['covid_ieee8023'])
    for mapping in SOURCE_MAPPINGS.values():
        assert {t for v in mapping.values() for t in v} <= set(CANONICAL_FINDINGS)


def test_nih_and_chexpert_share_seven_findings():
    nih = covered_findings('nih', NIH_CLASSES)
    chexpert = covered_findings('chexpert', CHEXPERT_CLASSES)
    assert shared_findings(nih, chexpert) == NIH_CHEXPERT_SHARED
    assert covered_findings('rsna', ('normal', 'pneumonia')) == ('Pneumonia',)
    assert covered_findings('covidx', COVIDX_3_CLASSES) == ('Pneumonia', 'COVID-19')
    assert covered_findings('covidx', COVIDX_2_CLASSES) == ('Pneumonia', 'COVID-19')


def test_absent_findings_are_minus_one_not_zero():
    chexpert = harmonise_labels(
        np.array([[1, 0, -1], [0, 1, 0]], np.float32),
        ['Pleural Effusion', 'Edema', 'Fracture'],
        'chexpert',
        ['Effusion', 'Edema', 'Fracture', 'Hernia'],
    )
    np.testing.assert_array_equal(chexpert, [[1, 0, -1, -1], [0, 1, 0, -1]])
    covidx = harmonise_labels(
        np.array([0, 1, 2]), COVIDX_3_CLASSES, 'covidx', ['Pneumonia', 'COVID-19']
    )
    np.testing.assert_array_equal(covidx, [[0, 0], [1, 0], [1, 1]])
    with pytest.raises(KeyError, match='no canonical mapping'):
        harmonise_labels(np.zeros((1, 1)), ['Nodule/Mass'], 'nih')


def test_real_nih_and_rsna_tables_in_canonical_form(shared_data):
    labels = shared_data / 'labels'
    nih = NIHChestXray14(
        ann_file=str(labels / 'nih_cxr14/Data_Entry_2017_v2020.csv.gz'),
        canonical_labels=NIH_CHEXPERT_SHARED,
    )
    assert nih.metainfo['classes'] == NIH_CHEXPERT_SHARED
    nih.full_init()
    entry = pd.read_csv(labels / 'nih_cxr14/Data_Entry_2017_v2020.csv.gz')
    effusion = entry['Finding Labels'].str.split('|').apply(lambda x: 'Effusion' in x)
    column = NIH_CHEXPERT_SHARED.index('Effusion')
    assert nih.table.labels[:, column].sum() == effusion.sum() == 13317
    rsna = RSNAPneumonia(
        ann_file=str(labels / 'rsna_pneumonia/kaggle_stage_2_train_labels.csv.zip'),
        canonical_labels=True,
    )
    rsna.full_init()
    pneumonia = CANONICAL_FINDINGS.index('Pneumonia')
    assert rsna.table.labels[:, pneumonia].sum() == 6012
    others = np.delete(rsna.table.labels, pneumonia, axis=1)
    assert (others == -1).all()
    covidx = COVIDx(
        ann_file=str(labels / 'covidx/test_COVIDx9A.txt'),
        canonical_labels=['Pneumonia', 'COVID-19', 'Edema'],
    )
    info = covidx.get_data_info(0)
    assert info['gt_score'][2] == -1 and set(info['gt_score'][:2]) <= {0.0, 1.0}


def test_chexpert_csv_in_canonical_form(shared_data):
    dataset = CheXpert(
        ann_file=str(shared_data / 'labels/chexpert/chexpert_train.csv.gz'),
        classes=CHEXPERT_CLASSES,
        uncertain_policy='ignore',
        canonical_labels=NIH_CHEXPERT_SHARED,
    )
    dataset.full_init()
    frame = pd.read_csv(
        shared_data / 'labels/chexpert/chexpert_train.csv.gz',
        usecols=['Pleural Effusion'],
    )
    column = dataset.table.labels[:, NIH_CHEXPERT_SHARED.index('Effusion')]
    assert (column == 1).sum() == (frame['Pleural Effusion'] == 1).sum()
    assert (column == -1).sum() == (frame['Pleural Effusion'] == -1).sum()
