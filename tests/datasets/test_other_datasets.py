"""COVIDx, RSNA Pneumonia, MIMIC-CXR (synthetic tables) and CXRImageFolder."""

import numpy as np
import pytest

from cxr_plugins.datasets import (
    COVIDX_2_CLASSES,
    MIMICCXR,
    COVIDx,
    CXRImageFolder,
    LabelTableError,
    RSNAPneumonia,
)
from cxr_plugins.datasets.tables import read_split_file


def labels_of(dataset) -> np.ndarray:
    return np.asarray(dataset.table.labels)


def test_covidx_9a_9b(shared_data):
    root = str(shared_data / 'labels' / 'covidx')
    train = COVIDx(data_root=root, ann_file='train_COVIDx9A.txt', data_prefix='train')
    assert len(train) == 30130
    np.testing.assert_array_equal(np.bincount(labels_of(train)), [8085, 5555, 16490])
    assert train.get_data_info(0)['img_path'].endswith(
        'train/SARS-10.1148rg.242035193-g04mr34g0-Fig8a-day0.jpeg'
    )
    test = COVIDx(data_root=root, ann_file='test_COVIDx9A.txt')
    np.testing.assert_array_equal(np.bincount(labels_of(test)), [100, 100, 200])
    binary = COVIDx(
        data_root=root, ann_file='train_COVIDx9B.txt', classes=COVIDX_2_CLASSES
    )
    assert len(binary) == 30482 and binary.metainfo['classes'] == COVIDX_2_CLASSES
    assert (
        len(
            COVIDx(
                data_root=root, ann_file='test_COVIDx9B.txt', classes=COVIDX_2_CLASSES
            )
        )
        == 400
    )
    with pytest.raises(
        LabelTableError, match="line 1, column 'label': label 'positive' is not one of"
    ):
        COVIDx(data_root=root, ann_file='test_COVIDx9B.txt')


def test_rsna_labels_and_mrm_lists(shared_data, tmp_path):
    root = str(shared_data / 'labels' / 'rsna_pneumonia')
    per_patient = RSNAPneumonia(
        data_root=root,
        ann_file='kaggle_stage_2_train_labels.csv.zip',
        data_prefix='stage_2_train_images',
    )
    assert len(per_patient) == 26684
    assert labels_of(per_patient).sum() == 6012
    info = per_patient.get_data_info(0)
    assert info['img_path'].endswith(f'stage_2_train_images/{info["patient_id"]}.dcm')
    counts = dict(
        train_1=251, train_10=2518, train_list=25184, val_list=1500, test_list=3000
    )
    for name, count in counts.items():
        assert (
            len(RSNAPneumonia(data_root=root, ann_file=f'mrm_splits/{name}.txt'))
            == count
        )
    bad = tmp_path / 'labels.csv'
    bad.write_text('patientId,x,y,width,height,Target\na,1,1,2,2,1\nb,,,,,0\na,,,,,0\n')
    with pytest.raises(LabelTableError, match="line 2, column 'Target'.*both"):
        RSNAPneumonia(ann_file=str(bad))


def test_covid_mrm_list_with_label_11(shared_data):
    path = shared_data / 'labels' / 'covid_ieee8023' / 'mrm_splits' / 'viral1'
    with pytest.raises(LabelTableError, match="label value '11' is not 0 or 1"):
        read_split_file(path / 'isviral_test.txt', 1)
    names, values = read_split_file(path / 'isviral_train.txt', 1)
    assert len(names) == len(values) > 0


@pytest.fixture
def mimic_tables(tmp_path):
    """Three studies of two subjects in the official column layout."""
    (tmp_path / 'split.csv').write_text(
        'dicom_id,study_id,subject_id,split\n'
        'd1,50000001,10000032,train\nd2,50000001,10000032,train\n'
        'd3,50000002,10000032,train\nd4,50000003,11000011,validate\n'
    )
    (tmp_path / 'metadata.csv').write_text(
        'dicom_id,subject_id,study_id,ViewPosition\n'
        'd1,10000032,50000001,PA\nd2,10000032,50000001,LATERAL\n'
        'd3,10000032,50000002,AP\nd4,11000011,50000003,PA\n'
    )
    columns = (
        'Atelectasis,Cardiomegaly,Consolidation,Edema,Enlarged '
        'Cardiomediastinum,Fracture,Lung Lesion,Lung Opacity,No Finding,'
        'Pleural Effusion,Pleural Other,Pneumonia,Pneumothorax,'
        'Support Devices'
    )
    (tmp_path / 'negbio.csv').write_text(
        f'subject_id,study_id,{columns}\n'
        '10000032,50000001,,,,,,,,,1.0,,,,,1.0\n'  # normal (+ support device)
        '10000032,50000002,-1.0,,,,,,,,,,,,1.0,\n'  # pneumothorax
        '11000011,50000003,-1.0,,,,,,,,,,,,,\n'
    )  # uncertain only = normal
    return tmp_path


def test_mimic_abnormal_task(mimic_tables):
    common = dict(
        data_root=str(mimic_tables),
        ann_file='split.csv',
        metadata_file='metadata.csv',
        label_file='negbio.csv',
        data_prefix='files',
    )
    train = MIMICCXR(split='train', **common)
    assert len(train) == 2 and train.metainfo['classes'] == ('normal', 'abnormal')
    assert [train.get_data_info(i)['gt_label'] for i in range(2)] == [0, 1]
    assert train.get_data_info(0)['img_path'].endswith(
        'files/p10/p10000032/s50000001/d1.jpg'
    )
    assert train.get_data_info(0)['patient_id'] == '10000032'
    val = MIMICCXR(split='val', **common)
    assert len(val) == 1 and val.get_data_info(0)['gt_label'] == 0
    multi = MIMICCXR(
        task='multilabel',
        classes=('Atelectasis', 'Pneumothorax'),
        uncertain_policy='ignore',
        **common,
    )
    np.testing.assert_array_equal(labels_of(multi), [[0, 0], [-1, 1], [-1, 0]])
    with open(mimic_tables / 'negbio.csv', 'a') as handle:
        handle.write('11000011,50000009,3.0,,,,,,,,,,,,,\n')
    with pytest.raises(LabelTableError, match="line 5, column 'Atelectasis'"):
        MIMICCXR(**common)


def test_image_folder(tmp_path, write_image):
    files = [
        ('train', 'normal', 'a.png'),
        ('train', 'normal', 'b.png'),
        ('train', 'pneumonia', 'c.png'),
        ('test', 'normal', 'd.png'),
    ]
    for split, cls, name in files:
        (tmp_path / split / cls).mkdir(parents=True, exist_ok=True)
        write_image(f'{split}/{cls}/{name}', np.full((8, 8), 50, np.uint8))
    dataset = CXRImageFolder(
        data_root=str(tmp_path),
        split='train',
        pipeline=[dict(type='LoadXRayImage'), dict(type='PackInputs')],
    )
    assert dataset.metainfo['classes'] == ('normal', 'pneumonia')
    assert labels_of(dataset).tolist() == [0, 0, 1]
    assert dataset[2]['data_samples'].gt_label.tolist() == [1]
    with pytest.raises(ValueError, match=r'\[.pneumonia.\] are not in the classes'):
        CXRImageFolder(data_root=str(tmp_path), split='train', classes=['normal'])
