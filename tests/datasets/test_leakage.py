"""Patient leakage checks on the real split lists (library + CLI)."""

import importlib.util

import numpy as np
import pandas as pd
import pytest

from cxr_plugins.datasets import PatientLeakageError, assert_no_leakage, find_overlaps
from cxr_plugins.datasets.leakage import ids_from_list


@pytest.fixture(scope='module')
def cli(repo_root):
    spec = importlib.util.spec_from_file_location(
        'check_leakage', repo_root / 'tools' / 'data' / 'check_leakage.py'
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_find_overlaps_and_assert():
    overlaps = find_overlaps(dict(a=['1', '2', '2'], b=['2', '3'], c=['4']))
    assert overlaps[('a', 'b')].tolist() == ['2']
    assert overlaps[('a', 'c')].size == overlaps[('b', 'c')].size == 0
    assert_no_leakage(dict(a=['1'], b=['2']))
    with pytest.raises(PatientLeakageError, match='a and b share 1 patient'):
        assert_no_leakage(dict(a=['1', '2'], b=['2']))


def test_siim_mrm_lists_overlap(shared_data, cli, capsys):
    root = shared_data / 'labels' / 'siim_acr' / 'mrm_splits'
    lists = [
        str(root / f'{name}.txt') for name in ('train_list', 'val_list', 'test_list')
    ]
    overlaps = find_overlaps({p: ids_from_list(p, 'image') for p in lists})
    assert [v.size for v in overlaps.values()] == [478, 494, 124]
    assert cli.main(['--scheme', 'image', *lists]) == 1
    out = capsys.readouterr().out
    assert '478 shared' in out and '494 shared' in out and '124 shared' in out
    assert 'LEAKAGE FOUND' in out


def test_nih_mrm_lists_are_patient_disjoint(shared_data, cli, capsys):
    root = shared_data / 'labels' / 'nih_cxr14'
    lists = [
        str(root / 'mrm_splits' / f'{n}.txt')
        for n in ('train_list', 'val_list', 'test_list')
    ]
    entry = str(root / 'Data_Entry_2017_v2020.csv.gz')
    assert cli.main(['--scheme', 'nih', '--data-entry', entry, *lists]) == 0
    out = capsys.readouterr().out
    assert out.count(' 0 shared') == 3 and 'no leakage' in out
    assert '21528 unique ids' in out
    # the image-name rule and the Data_Entry lookup give the same patients
    table = pd.read_csv(entry, usecols=['Image Index', 'Patient ID'])
    lookup = table.set_index('Image Index')['Patient ID'].astype(str)
    np.testing.assert_array_equal(
        ids_from_list(lists[1], 'nih'), ids_from_list(lists[1], 'nih', lookup)
    )


def test_chexpert_mrm_train_and_val_share_patients(shared_data):
    root = shared_data / 'labels' / 'chexpert' / 'mrm_splits'
    groups = {
        n: ids_from_list(str(root / f'{n}.txt'), 'chexpert')
        for n in ('train_10', 'val_list', 'test_list')
    }
    overlaps = find_overlaps(groups)
    assert overlaps[('train_10', 'val_list')].size == 1837
    assert overlaps[('train_10', 'test_list')].size == 0
    assert np.char.startswith(groups['test_list'], 'patient').all()


def test_cli_rejects_bad_input_naming_the_file(tmp_path, cli, capsys):
    good = tmp_path / 'a.txt'
    good.write_text('x\ny\n')
    other = tmp_path / 'b.txt'
    other.write_text('z\n')
    with pytest.raises(SystemExit):
        cli.main(['--scheme', 'image', str(good), str(good)])
    assert 'a.txt is given twice' in capsys.readouterr().err
    bad_files = {
        'empty.txt': b'',
        'latin1.txt': b'caf\xe9\n',
    }
    for name, content in bad_files.items():
        (tmp_path / name).write_bytes(content)
        assert cli.main(['--scheme', 'image', str(good), str(tmp_path / name)]) == 2
        assert name in capsys.readouterr().err
    entry = tmp_path / 'entry.csv'
    entry.write_text('Image Index,Finding Labels\n00000001_000.png,No Finding\n')
    code = cli.main(
        ['--scheme', 'nih', '--data-entry', str(entry), str(good), str(other)]
    )
    err = capsys.readouterr().err
    assert (
        code == 2 and 'entry.csv' in err and "missing column(s) ['Patient ID']" in err
    )
