"""Every ``bash`` / ``python`` block of the user-data pages under docs/ runs.

The pages run in order in one scratch folder that looks like the repository
root (``tools``, ``configs`` and ``data/demo`` linked in), so a later page can
use what an earlier one wrote (the infer page uses the CSV page's
checkpoint). ``data/`` also holds the real label files of ``../shared/data``
in the official layouts the prepare page describes (no images: only label
and split files are read there). ``text`` blocks (folder layouts) are not run.
"""

from __future__ import annotations

import gzip
import os
import re
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
from cxr_test_utils import REPO_ROOT

PAGES = [
    'fine_tune_on_my_csv.md',
    'infer_on_a_folder.md',
    'my_image_folder.md',
    'nih_to_chexpert.md',
    'prepare_datasets.md',
]
BLOCK = re.compile(r'^```(bash|python)\n(.*?)^```', re.S | re.M)


def code_blocks(page: Path) -> list[tuple[str, str]]:
    """``(language, code)`` of every fenced bash/python block, in order."""
    return BLOCK.findall(page.read_text())


def _gunzip(source: Path, target: Path) -> None:
    with gzip.open(source, 'rb') as src, open(target, 'wb') as dst:
        shutil.copyfileobj(src, dst)


def _official_layout(data: Path, labels: Path) -> None:
    """The real label files under the names the official downloads use."""
    nih = data / 'nih-cxr14'
    nih.mkdir()
    _gunzip(
        labels / 'nih_cxr14/Data_Entry_2017_v2020.csv.gz',
        nih / 'Data_Entry_2017_v2020.csv',
    )
    (nih / 'mrm_splits').symlink_to(labels / 'nih_cxr14/mrm_splits')
    chexpert = data / 'chexpert/CheXpert-v1.0-small'
    chexpert.mkdir(parents=True)
    _gunzip(labels / 'chexpert/chexpert_train.csv.gz', chexpert / 'train.csv')
    rsna = data / 'rsna-pneumonia'
    rsna.mkdir()
    with zipfile.ZipFile(
        labels / 'rsna_pneumonia/kaggle_stage_2_train_labels.csv.zip'
    ) as z:
        (rsna / 'stage_2_train_labels.csv').write_bytes(z.read(z.namelist()[0]))
    covidx = data / 'covidx'
    covidx.mkdir()
    for name in ('train_COVIDx9A.txt', 'test_COVIDx9A.txt'):
        shutil.copy(labels / 'covidx' / name, covidx / name)
    siim = data / 'siim-raw'
    siim.mkdir()
    (siim / 'train-rle.csv').symlink_to(
        REPO_ROOT.parent / 'shared/data/siim_acr_sample/train-rle.csv'
    )
    (siim / 'images').symlink_to(
        REPO_ROOT.parent / 'shared/data/siim_acr_sample/images'
    )


@pytest.fixture(scope='module')
def workspace(tmp_path_factory, shared_data) -> Path:
    root = tmp_path_factory.mktemp('docs')
    for name in ('tools', 'configs'):
        (root / name).symlink_to(REPO_ROOT / name)
    (root / 'data').mkdir()
    (root / 'data/demo').symlink_to(REPO_ROOT / 'data/demo')
    _official_layout(root / 'data', shared_data / 'labels')
    return root


def run_block(language: str, code: str, cwd: Path) -> subprocess.CompletedProcess:
    env = dict(os.environ)
    env['PATH'] = f'{Path(sys.executable).parent}{os.pathsep}{env["PATH"]}'
    env['PYTHONPATH'] = str(REPO_ROOT)
    env.setdefault('OMP_NUM_THREADS', '1')
    command = (
        ['bash', '-euo', 'pipefail', '-c', code]
        if language == 'bash'
        else [sys.executable, '-c', code]
    )
    return subprocess.run(
        command, cwd=cwd, env=env, capture_output=True, text=True, timeout=900
    )


def test_every_page_is_linked_from_the_readme():
    readme = (REPO_ROOT / 'README.md').read_text()
    for page in PAGES:
        assert f'docs/{page}' in readme, page


@pytest.mark.slow
@pytest.mark.parametrize('page', PAGES)
def test_page_blocks_run(page, workspace):
    blocks = code_blocks(REPO_ROOT / 'docs' / page)
    assert blocks, f'{page} has no bash/python block'
    for number, (language, code) in enumerate(blocks, start=1):
        result = run_block(language, code, workspace)
        assert result.returncode == 0, (
            f'docs/{page} block {number} ({language}) failed:\n{code}\n'
            f'--- stdout ---\n{result.stdout[-3000:]}\n'
            f'--- stderr ---\n{result.stderr[-3000:]}'
        )
