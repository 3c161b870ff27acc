"""CheXpert on the full official train.csv and the MRM split files."""

import numpy as np
import pytest

from cxr_plugins.datasets import (
    CHEXPERT_CLASSES,
    CHEXPERT_COMPETITION_CLASSES,
    CheXpert,
    LabelTableError,
)
from cxr_plugins.datasets.chexpert import resolve_uncertain_policy

HEADER = (
    'Path,Sex,Age,Frontal/Lateral,AP/PA,No Finding,Enlarged Cardiomediastinum,'
    'Cardiomegaly,Lung Opacity,Lung Lesion,Edema,Consolidation,Pneumonia,'
    'Atelectasis,Pneumothorax,Pleural Effusion,Pleural Other,Fracture,'
    'Support Devices'
)
# patient00002/study2 of the real train.csv: Cardiomegaly, Edema, Consolidation,
# Atelectasis, Pleural Effusion all uncertain (-1).
UNCERTAIN_ROW = (
    'CheXpert-v1.0-small/train/patient00002/study2/view1_frontal.jpg,'
    'Female,87,Frontal,AP,,,-1.0,1.0,,-1.0,-1.0,,-1.0,,-1.0,,1.0,'
)


@pytest.fixture(scope='module')
def chexpert_dir(shared_data):
    return shared_data / 'labels' / 'chexpert'


def test_full_train_csv(chexpert_dir):
    dataset = CheXpert(data_root=str(chexpert_dir), ann_file='chexpert_train.csv.gz')
    assert len(dataset) == 223414
    assert dataset.metainfo['classes'] == CHEXPERT_COMPETITION_CLASSES
    labels = dataset.table.labels
    assert set(np.unique(labels)) == {0.0, 1.0}
    assert len(set(dataset.table.patient_id)) == 64540
    info = dataset.get_data_info(1)
    assert info['patient_id'] == 'patient00002'
    assert info['img_path'].endswith(
        'CheXpert-v1.0-small/train/patient00002/study2/view1_frontal.jpg'
    )
    # seeds' policy: U-Ones for Atelectasis and Edema, U-Zeros for the rest
    np.testing.assert_array_equal(info['gt_score'], [1, 0, 0, 1, 0])
    frontal = CheXpert(
        data_root=str(chexpert_dir),
        ann_file='chexpert_train.csv.gz',
        frontal_only=True,
        classes=CHEXPERT_CLASSES,
        uncertain_policy='ignore',
    )
    assert len(frontal) == 191027
    # every class but No Finding has uncertain (-1) mentions
    assert (frontal.table.labels[:, 1:] == -1).any(axis=0).all()
    assert not (frontal.table.labels[:, 0] == -1).any()


def test_mrm_split_files(chexpert_dir):
    counts = dict(train_1=2184, train_10=21841, val_list=5000, test_list=234)
    for name, count in counts.items():
        dataset = CheXpert(
            data_root=str(chexpert_dir), ann_file=f'mrm_splits/{name}.txt'
        )
        assert len(dataset) == count
    np.testing.assert_array_equal(dataset.table.labels.sum(0), [80, 68, 33, 45, 67])
    frontal = CheXpert(
        data_root=str(chexpert_dir),
        ann_file='mrm_splits/test_list.txt',
        frontal_only=True,
    )
    assert len(frontal) == 202


def test_uncertain_policies(tmp_path):
    path = tmp_path / 'train.csv'
    path.write_text(f'{HEADER}\n{UNCERTAIN_ROW}\n')
    policies = {
        'ones': [1, 1, 1, 1, 1],
        'zeros': [0, 0, 0, 0, 0],
        'ignore': [-1, -1, -1, -1, -1],
        'default': [1, 0, 0, 1, 0],
    }
    for name, expected in policies.items():
        kwargs = {} if name == 'default' else dict(uncertain_policy=name)
        info = CheXpert(ann_file=str(path), **kwargs).get_data_info(0)
        np.testing.assert_array_equal(info['gt_score'], expected, err_msg=name)
    np.testing.assert_array_equal(
        resolve_uncertain_policy(
            dict(default='ignore', Edema='ones'), CHEXPERT_COMPETITION_CLASSES
        ),
        [-1, -1, -1, 1, -1],
    )
    with pytest.raises(KeyError, match='Hernia'):
        CheXpert(ann_file=str(path), uncertain_policy=dict(Hernia='ones'))


def test_bad_tables(tmp_path):
    path = tmp_path / 'train.csv'
    path.write_text(
        f'{HEADER}\n{UNCERTAIN_ROW}\n'
        + UNCERTAIN_ROW.replace('study2', 'study3').replace(',-1.0,1.0,', ',2.0,1.0,')
        + '\n'
    )
    with pytest.raises(
        LabelTableError, match=r"line 3, column 'Cardiomegaly': value '2.0' is not"
    ):
        CheXpert(ann_file=str(path))
    path.write_text(f'{HEADER}\n{UNCERTAIN_ROW}\n{UNCERTAIN_ROW}\n')
    with pytest.raises(LabelTableError, match="line 3, column 'Path': duplicate"):
        CheXpert(ann_file=str(path))
    path.write_text(HEADER.replace(',Edema', '') + '\n')
    with pytest.raises(
        LabelTableError, match=r"line 1: missing column\(s\) \['Edema'\]"
    ):
        CheXpert(ann_file=str(path))
    listed = tmp_path / 'list.txt'
    listed.write_text(
        'CheXpert-v1.0-small/train/p1/study1/view1_frontal.jpg 0 0 0 0 0\n'
    )
    with pytest.raises(LabelTableError, match='line 1.*patientNNNNN'):
        CheXpert(ann_file=str(listed))
