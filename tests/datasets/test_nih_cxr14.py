"""NIHChestXray14 on the demo CSV, the full Data_Entry and the MRM split lists."""

import numpy as np
import pytest
from mmpretrain.datasets.transforms import PackInputs

from cxr_plugins.datasets import (
    NIH_CLASSES,
    LabelTableError,
    NIHChestXray14,
    PatientLeakageError,
)

DEMO_SPLIT = dict(train=0.6, val=0.2, test=0.2)


def demo(demo_dir, **kwargs) -> NIHChestXray14:
    return NIHChestXray14(
        data_root=str(demo_dir / 'nih14_64px'), ann_file='labels.csv', **kwargs
    )


def patients(dataset) -> set:
    return {dataset.get_data_info(i)['patient_id'] for i in range(len(dataset))}


def test_demo_patient_resplit_is_disjoint_and_complete(demo_dir):
    splits = {s: demo(demo_dir, split=s, patient_split=DEMO_SPLIT) for s in DEMO_SPLIT}
    assert sum(len(d) for d in splits.values()) == 1000
    groups = {s: patients(d) for s, d in splits.items()}
    assert not groups['train'] & groups['val']
    assert not groups['train'] & groups['test']
    assert not groups['val'] & groups['test']
    assert sum(len(g) for g in groups.values()) == 264
    assert [len(g) for g in groups.values()] == [158, 53, 53]
    again = demo(demo_dir, split='train', patient_split=DEMO_SPLIT)
    assert patients(again) == groups['train']
    other_seed = demo(demo_dir, split='train', patient_split=DEMO_SPLIT, seed=1)
    assert patients(other_seed) != groups['train']


def test_demo_split_column_is_not_patient_disjoint(demo_dir):
    train, valid = demo(demo_dir, split='train'), demo(demo_dir, split='val')
    assert (len(train), len(valid)) == (600, 200)
    assert patients(train) & patients(valid)


def test_demo_labels_and_packing(demo_dir):
    dataset = demo(
        demo_dir, pipeline=[dict(type='LoadXRayImage'), dict(type='PackInputs')]
    )
    assert dataset.metainfo['classes'] == NIH_CLASSES
    info = dataset.get_data_info(1)
    assert info['img_path'].endswith('images/00000001_001.png')
    assert info['patient_id'] == '1'
    expected = np.zeros(14, np.float32)
    expected[[NIH_CLASSES.index('Cardiomegaly'), NIH_CLASSES.index('Emphysema')]] = 1
    np.testing.assert_array_equal(info['gt_score'], expected)
    np.testing.assert_array_equal(info['gt_label'], [1, 10])
    packed = dataset[1]
    assert packed['inputs'].shape == (3, 64, 64)
    sample = packed['data_samples']
    np.testing.assert_array_equal(sample.gt_score.numpy(), expected)
    assert sample.gt_label.tolist() == [1, 10]
    normal = next(
        dataset.get_data_info(i)
        for i in range(len(dataset))
        if dataset.get_data_info(i)['gt_score'].sum() == 0
    )
    assert PackInputs()(dict(normal))['data_samples'].gt_label.numel() == 0


def test_fraction_draws_whole_patients(demo_dir):
    full = demo(demo_dir)
    tenth = demo(demo_dir, fraction=0.1, seed=3)
    chosen = patients(tenth)
    assert len(chosen) == round(0.1 * 264)
    whole = [full.get_data_info(i)['patient_id'] for i in range(len(full))]
    assert len(tenth) == sum(p in chosen for p in whole)
    assert patients(demo(demo_dir, fraction=0.1, seed=3)) == chosen


def test_full_data_entry(shared_data):
    root = shared_data / 'labels' / 'nih_cxr14'
    dataset = NIHChestXray14(
        data_root=str(root),
        ann_file='Data_Entry_2017_v2020.csv.gz',
        data_prefix='images',
    )
    assert len(dataset) == 112120
    scores = dataset.table.labels
    assert (scores.sum(1) == 0).sum() == 60361  # No Finding rows
    assert scores[:, NIH_CLASSES.index('Hernia')].sum() == 227
    assert len(set(dataset.table.patient_id)) == 30805
    assert dataset.get_data_info(0)['img_path'].endswith('images/00000001_000.png')


def test_mrm_lists_with_data_entry_and_leakage_check(shared_data):
    root = shared_data / 'labels' / 'nih_cxr14'
    counts = dict(
        train_list=78468, val_list=11219, test_list=22433, train_1=785, train_10=7847
    )
    for name, count in counts.items():
        dataset = NIHChestXray14(
            data_root=str(root),
            ann_file=f'mrm_splits/{name}.txt',
            data_entry='Data_Entry_2017_v2020.csv.gz',
            disjoint_from=['mrm_splits/test_list.txt'] if name == 'val_list' else (),
        )
        assert len(dataset) == count, name
    with pytest.raises(PatientLeakageError, match='share'):
        NIHChestXray14(
            data_root=str(root),
            ann_file='mrm_splits/train_1.txt',
            disjoint_from=['mrm_splits/train_10.txt'],
        )


@pytest.fixture
def entry_csv(tmp_path):
    def _write(
        rows: list[str],
        header: str = 'Image Index,Finding Labels,Follow-up #,Patient ID,View Position',
    ) -> str:
        path = tmp_path / 'Data_Entry_2017.csv'
        path.write_text('\n'.join([header, *rows]) + '\n')
        return str(path)

    return _write


GOOD_ROWS = [
    '00000001_000.png,Cardiomegaly,0,1,PA',
    '00000002_000.png,No Finding,0,2,AP',
]


@pytest.mark.parametrize(
    'rows,header,message,where',
    [
        (
            GOOD_ROWS,
            'Image Index,Finding Labels,Follow-up #',
            'missing column',
            'line 1',
        ),
        (
            GOOD_ROWS + ['00000003_000.png,Cardiomegally,0,3,PA'],
            None,
            "unknown finding 'Cardiomegally'",
            "line 4, column 'Finding Labels'",
        ),
        (
            GOOD_ROWS + ['00000003_000.png,No Finding|Mass,0,3,PA'],
            None,
            'combined',
            'line 4',
        ),
        (
            GOOD_ROWS + ['00000001_000.png,Mass,0,1,PA'],
            None,
            "duplicate image id '00000001_000.png'",
            "line 4, column 'Image Index'",
        ),
    ],
)
def test_bad_data_entry(entry_csv, rows, header, message, where):
    path = entry_csv(rows, header) if header else entry_csv(rows)
    with pytest.raises(LabelTableError, match=message) as info:
        NIHChestXray14(ann_file=path)
    assert str(info.value).startswith(f'{path}, {where}')


def test_image_list_and_split_file_errors(entry_csv, tmp_path):
    entry = entry_csv(GOOD_ROWS)
    listed = tmp_path / 'test_list.txt'
    listed.write_text('00000002_000.png\n')
    dataset = NIHChestXray14(
        ann_file=entry, image_list=str(listed), view_positions=['AP']
    )
    assert len(dataset) == 1 and dataset.get_data_info(0)['patient_id'] == '2'
    listed.write_text('00000002_000.png\n00000009_000.png\n')
    with pytest.raises(LabelTableError, match=r'line 2: 1 image\(s\) are not in'):
        NIHChestXray14(ann_file=entry, image_list=str(listed))
    split = tmp_path / 'train.txt'
    split.write_text(
        '00000001_000.png ' + ' '.join(['0'] * 14) + '\n'
        '00000001_001.png ' + ' '.join(['0'] * 13 + ['2']) + '\n'
    )
    with pytest.raises(LabelTableError, match="line 2, column 'value 14'"):
        NIHChestXray14(ann_file=str(split))
    split.write_text('00000001_000.png 0 1\n')
    with pytest.raises(LabelTableError, match='line 1: expected a name and 14'):
        NIHChestXray14(ann_file=str(split))
    split.write_text('00000009_000.png ' + ' '.join(['0'] * 14) + '\n')
    with pytest.raises(LabelTableError, match='not in the label table'):
        NIHChestXray14(ann_file=str(split), data_entry=entry)
