"""CXRLabelTable: a user's table with arbitrary label names, by config alone."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from mmpretrain.datasets.transforms import PackInputs
from mmpretrain.registry import DATASETS

from cxr_plugins.datasets import CXR_META_KEYS, CheXpert, LabelTableError

ROWS = [
    # image, patient, Cardiomegaly, Effusion, sex, age, view, site, split
    ('a/1.png', 'p1', '1', '0', 'F', '61', 'PA', 'north', 'train'),
    ('a/2.png', 'p1', '0', '-1', 'F', '62', 'AP', 'north', 'train'),
    ('b/3.png', 'p2', '0', '', 'M', '', 'LL', 'south', 'val'),
    ('b/4.png', 'p3', '1', '1', 'M', '40', 'PA', 'south', 'test'),
]
COLUMNS = ['image', 'patient', 'Cardiomegaly', 'Effusion']
META = ['sex', 'age', 'view', 'site', 'split']


def write(tmp_path, rows=ROWS, name='labels.csv', sep=','):
    frame = pd.DataFrame(rows, columns=COLUMNS + META)
    path = tmp_path / name
    if name.endswith('.parquet'):
        frame.to_parquet(path)
    else:
        frame.to_csv(path, sep=sep, index=False)
    return path


def build(path, **kwargs):
    cfg = dict(
        type='CXRLabelTable',
        ann_file=str(path),
        classes=['Cardiomegaly', 'Effusion'],
        path_column='image',
        patient_column='patient',
        uncertain_policy=dict(Effusion='ignore', default='zeros'),
        blank='zeros',
        meta_columns=dict(sex='sex', age='age', view='view', site='site'),
    )
    cfg.update(kwargs)
    return DATASETS.build(cfg)


@pytest.mark.parametrize('name', ['labels.csv', 'labels.tsv', 'labels.parquet'])
def test_reads_any_format_with_user_label_names(tmp_path, name):
    path = write(tmp_path, name=name, sep='\t' if name.endswith('.tsv') else ',')
    dataset = build(path, data_prefix=dict(img_path='imgs'))
    assert dataset.metainfo['classes'] == ('Cardiomegaly', 'Effusion')
    scores = np.stack([dataset.get_data_info(i)['gt_score'] for i in range(4)])
    np.testing.assert_array_equal(scores, [[1, 0], [0, -1], [0, 0], [1, 1]])
    info = dataset.get_data_info(2)
    assert info['img_path'] == 'imgs/b/3.png' and info['patient_id'] == 'p2'
    assert info['sex'] == 'M' and np.isnan(info['age']) and info['site'] == 'south'
    assert dataset.get_data_info(0)['age'] == 61.0


def test_metadata_reaches_the_data_sample(tmp_path):
    info = build(write(tmp_path)).get_data_info(0)
    info.update(img=np.zeros((4, 4, 3), np.uint8), ori_shape=(4, 4), img_shape=(4, 4))
    sample = PackInputs(meta_keys=CXR_META_KEYS)(info)['data_samples']
    for key in ('patient_id', 'sex', 'age', 'view', 'site'):
        assert key in sample.metainfo, key
    assert sample.metainfo['view'] == 'PA' and sample.metainfo['patient_id'] == 'p1'


def test_split_column_filters_and_patient_split(tmp_path):
    path = write(tmp_path)
    assert len(build(path, split='train', split_column='split')) == 2
    assert len(build(path, split='valid', split_column='split')) == 1
    frontal = build(path, filters=dict(view=['PA', 'AP']))
    assert len(frontal) == 3
    ratios = dict(train=0.34, val=0.33, test=0.33)
    parts = {s: build(path, split=s, patient_split=ratios) for s in ratios}
    patients = [
        {d.get_data_info(i)['patient_id'] for i in range(len(d))}
        for d in parts.values()
    ]
    assert sum(len(d) for d in parts.values()) == 4
    assert not (patients[0] & patients[1]) and not (patients[0] & patients[2])
    with pytest.raises(ValueError, match='needs split_column or patient_split'):
        build(path, split='train')


def test_single_label_column(tmp_path):
    path = tmp_path / 'single.csv'
    path.write_text('file,pid,finding\nx.png,1,pneumonia\ny.png,2,normal\nz.png,3,1\n')
    dataset = build(
        path,
        classes=['normal', 'pneumonia'],
        path_column='file',
        patient_column='pid',
        label_column='finding',
        uncertain_policy=None,
        meta_columns=None,
    )
    assert [dataset.get_data_info(i)['gt_label'] for i in range(3)] == [1, 0, 1]
    path.write_text('file,pid,finding\nx.png,1,covid\n')
    with pytest.raises(LabelTableError, match=r"line 2, column 'finding'.*'covid'"):
        build(
            path,
            classes=['normal', 'pneumonia'],
            path_column='file',
            patient_column='pid',
            label_column='finding',
            uncertain_policy=None,
            meta_columns=None,
        )


def test_strict_errors_name_file_row_and_column(tmp_path):
    path = write(tmp_path)
    with pytest.raises(LabelTableError, match=r"line 3, column 'Effusion'.*'-1'"):
        build(path, uncertain_policy=None)
    with pytest.raises(LabelTableError, match=r"line 4, column 'Effusion'.*blank"):
        build(path, blank='error')
    rows = [list(r) for r in ROWS]
    rows[2][1] = ''
    with pytest.raises(
        LabelTableError, match=r"line 4, column 'patient'.*blank patient"
    ):
        build(write(tmp_path, rows=rows, name='blank.csv'))
    with pytest.raises(LabelTableError, match=r"missing column\(s\) \['Hernia'\]"):
        build(path, classes=['Hernia'], uncertain_policy=None)
    (tmp_path / 'latin1.csv').write_bytes(b'image,patient,Cardiomegaly\ncaf\xe9,1,0\n')
    with pytest.raises(LabelTableError, match='latin1.csv: cannot read'):
        build(
            tmp_path / 'latin1.csv',
            classes=['Cardiomegaly'],
            meta_columns=None,
            uncertain_policy=None,
        )


def test_chexpert_default_policy_accepts_any_subset(tmp_path):
    """The issue's case: the default policy rejected subsets without
    Atelectasis/Edema."""
    path = tmp_path / 'train.csv'
    path.write_text(
        'Path,Sex,Age,Frontal/Lateral,AP/PA,Cardiomegaly,Edema\n'
        'CheXpert-v1.0-small/train/patient00001/study1/view1_frontal.jpg,'
        'Female,68,Frontal,AP,-1.0,-1.0\n'
    )
    only = CheXpert(ann_file=str(path), classes=['Cardiomegaly'])
    assert only.get_data_info(0)['gt_score'].tolist() == [0.0]
    both = CheXpert(ann_file=str(path), classes=['Cardiomegaly', 'Edema'])
    info = both.get_data_info(0)
    assert info['gt_score'].tolist() == [0.0, 1.0]  # U-Zeros, U-Ones (seeds)
    assert (info['sex'], info['age'], info['view']) == ('Female', 68.0, 'AP')
