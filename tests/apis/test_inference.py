"""Inference API and CLI on real radiographs (demo PNG, SIIM JPEG, written DICOMs)."""

from __future__ import annotations

import csv
import os
from pathlib import Path

import numpy as np
import pytest
import torch
from cxr_test_utils import REPO_ROOT, load_tool, write_dicom
from PIL import Image

from cxr_plugins.apis import (
    find_images,
    init_classifier,
    predict_batch,
    predict_image,
    prepare_batch,
)
from cxr_plugins.datasets import nih_cxr14

REPO = REPO_ROOT
CONFIG = REPO / 'configs/demo/vit-demo-p8_mae-pre_1xb64-15e_nih14-demo-64px.py'
NIH_CLASSES = list(nih_cxr14.NIH_CLASSES)


@pytest.fixture(scope='module')
def checkpoint(tmp_path_factory) -> Path:
    """A classifier checkpoint as tools/train.py writes it (random weights)."""
    torch.manual_seed(0)
    model = init_classifier(CONFIG)
    with torch.no_grad():  # make the head's logits spread out
        model.head.fc.weight.normal_(0, 0.5)
    path = tmp_path_factory.mktemp('ckpt') / 'cls.pth'
    torch.save(
        {
            'state_dict': model.state_dict(),
            'meta': {'dataset_meta': {'classes': NIH_CLASSES}},
        },
        path,
    )
    return path


@pytest.fixture(scope='module')
def model(checkpoint):
    return init_classifier(CONFIG, checkpoint)


def demo_pngs(demo_dir: Path, count: int) -> list[Path]:
    return sorted((demo_dir / 'nih14_64px/images').glob('*.png'))[:count]


def write_cr_dicom(path: Path, grey: np.ndarray, photometric: str) -> None:
    """A 12-bit DICOM of ``grey``; MONOCHROME1 stores inverted values."""
    stored = grey.astype(np.uint16) * 16
    if photometric == 'MONOCHROME1':
        stored = 4095 - stored
    write_dicom(path, stored, photometric)


def test_predict_image_matches_a_manual_forward(model, demo_dir):
    path = demo_pngs(demo_dir, 1)[0]
    probs = predict_image(model, path)
    assert list(probs) == NIH_CLASSES
    grey = np.asarray(Image.open(path).convert('L'), dtype=np.float32)
    image = torch.from_numpy(np.repeat(grey[None], 3, axis=0))[None]
    preprocessor = model.data_preprocessor
    with torch.no_grad():
        inputs = (image - preprocessor.mean) / preprocessor.std
        expected = torch.sigmoid(model(inputs, mode='tensor'))[0]
    np.testing.assert_allclose(list(probs.values()), expected.numpy(), atol=1e-5)
    assert np.ptp(list(probs.values())) > 0.05  # the classes really differ


def test_large_jpeg_is_resized_to_the_backbone_input(model, shared_data):
    jpeg = sorted((shared_data / 'siim_acr_sample/images').glob('*.jpg'))[0]
    assert Image.open(jpeg).size == (1024, 1024)
    batch = prepare_batch(model, [jpeg])
    assert tuple(batch['inputs'][0].shape) == (3, 64, 64)
    probs = predict_image(model, jpeg)
    assert all(0.0 < value < 1.0 for value in probs.values())


def test_monochrome1_dicom_reads_like_its_monochrome2_twin(model, demo_dir, tmp_path):
    png = demo_pngs(demo_dir, 1)[0]
    grey = np.asarray(Image.open(png).convert('L'))
    write_cr_dicom(tmp_path / 'm2.dcm', grey, 'MONOCHROME2')
    write_cr_dicom(tmp_path / 'm1.dcm', grey, 'MONOCHROME1')
    m1, m2 = predict_batch(model, [tmp_path / 'm1.dcm', tmp_path / 'm2.dcm'])
    np.testing.assert_allclose(list(m1.values()), list(m2.values()), atol=2e-3)
    # Without the MONOCHROME1 inversion the image would be a negative.
    negative = tmp_path / 'negative.png'
    Image.fromarray(255 - grey).save(negative)
    flipped = predict_image(model, negative)
    assert np.abs(np.subtract(list(flipped.values()), list(m1.values()))).max() > 1e-2


def test_infer_cli_writes_probabilities_and_cams(
    checkpoint, model, demo_dir, shared_data, tmp_path
):
    images = tmp_path / 'inputs'
    images.mkdir()
    for png in demo_pngs(demo_dir, 3):
        (images / png.name).write_bytes(png.read_bytes())
    grey = np.asarray(Image.open(demo_pngs(demo_dir, 1)[0]).convert('L'))
    write_cr_dicom(images / 'scan_m1.dcm', grey, 'MONOCHROME1')
    jpeg = sorted((shared_data / 'covid_cxr/images').glob('*.jpg'))[0]
    listing = tmp_path / 'list.txt'
    listing.write_text(f'{jpeg}\n')
    out = tmp_path / 'probs.csv'
    cam_dir = tmp_path / 'cams'
    infer = load_tool('tools/infer.py')
    assert (
        infer.main(
            [
                str(CONFIG),
                str(checkpoint),
                str(images),
                str(listing),
                '--out',
                str(out),
                '--batch-size',
                '2',
                '--cam-dir',
                str(cam_dir),
                '--cam-top-k',
                '2',
            ]
        )
        == 0
    )
    with open(out) as file:
        rows = list(csv.DictReader(file))
    paths = find_images([images, listing])
    assert [row['img_path'] for row in rows] == [str(path) for path in paths]
    assert len(rows) == 5 and list(rows[0])[1:] == [f'prob_{n}' for n in NIH_CLASSES]
    expected = predict_batch(model, paths)
    for row, probs in zip(rows, expected):
        np.testing.assert_allclose(
            [float(row[f'prob_{name}']) for name in NIH_CLASSES],
            list(probs.values()),
            atol=1e-5,
        )
    overlays = sorted(cam_dir.rglob('*.png'))
    assert len(overlays) == 2 * 5
    top = max(expected[0], key=expected[0].get)
    root = Path(os.path.commonpath([str(p.resolve().parent) for p in paths]))
    overlay = Image.open(infer.cam_path(cam_dir, paths[0], root, top))
    assert overlay.size == (64, 64) and overlay.mode == 'RGB'


def test_infer_skip_bad_collisions_atomic_csv_and_dicom_folder(
    checkpoint, demo_dir, tmp_path, capsys
):
    """Same stems in one folder and in sub-folders get distinct heat-maps;
    an unreadable image aborts without touching the old CSV, or is skipped
    and listed with --skip-bad; a folder of suffix-less DICOMs is read."""
    infer = load_tool('tools/infer.py')
    images = tmp_path / 'inputs'
    (images / 'sub').mkdir(parents=True)
    png = demo_pngs(demo_dir, 1)[0]
    grey = np.asarray(Image.open(png).convert('L'))
    Image.fromarray(grey).save(images / 'a.png')
    Image.fromarray(grey).save(images / 'a.jpg')
    Image.fromarray(grey).save(images / 'sub' / 'a.png')
    write_cr_dicom(images / 'IM0001', grey, 'MONOCHROME2')
    (images / 'broken.png').write_bytes(b'')
    out = tmp_path / 'probs.csv'
    out.write_text('previous results\n')
    base = [str(CONFIG), str(checkpoint), str(images), '--out', str(out)]
    with pytest.raises(RuntimeError, match='broken.png.*--skip-bad'):
        infer.main(base)
    assert out.read_text() == 'previous results\n'
    assert not list(tmp_path.glob('.probs.csv.*'))  # no temporary left behind
    cams = tmp_path / 'cams'
    assert infer.main([*base, '--skip-bad', '--cam-dir', str(cams)]) == 0
    with open(out) as file:
        rows = list(csv.DictReader(file))
    assert sorted(Path(r['img_path']).relative_to(images).as_posix() for r in rows) == [
        'IM0001',
        'a.jpg',
        'a.png',
        'sub/a.png',
    ]
    sidecar = (tmp_path / 'probs.csv.skipped.tsv').read_text()
    assert sidecar.startswith(str(images / 'broken.png') + '\t')
    assert len(list(cams.rglob('*.png'))) == 4
    summary = capsys.readouterr().out
    assert 'skipped 1 unreadable image(s)' in summary and 'broken.png' in summary


def test_find_images_rejects_missing_inputs(tmp_path):
    with pytest.raises(FileNotFoundError, match='no such file'):
        find_images([tmp_path / 'nope.png'])
    with pytest.raises(FileNotFoundError, match='files inside'):
        find_images([tmp_path])


def test_whole_image_pipeline_replaces_resize_and_crop(model):
    from cxr_plugins.apis import build_test_pipeline

    steps = [
        type(step).__name__
        for step in build_test_pipeline(
            model.cfg, img_size=48, whole_image=True
        ).transforms
    ]
    assert steps == ['LoadXRayImage', 'Resize', 'PackInputs']
    normal = [type(step).__name__ for step in build_test_pipeline(model.cfg).transforms]
    configured = model.cfg.test_dataloader.dataset.pipeline
    assert normal == [step['type'] for step in configured]


def test_flat_heat_maps_are_reported(
    checkpoint, demo_dir, tmp_path, monkeypatch, capsys
):
    import cxr_plugins.visualization as visualization

    def flat_cams(model, inputs, classes):
        return [[np.zeros(inputs.shape[-2:], np.float32) for _ in classes]]

    monkeypatch.setattr(visualization, 'compute_cams', flat_cams)
    infer = load_tool('tools/infer.py')
    png = demo_pngs(demo_dir, 1)[0]
    out = tmp_path / 'probs.csv'
    cams = tmp_path / 'cams'
    argv = [str(CONFIG), str(checkpoint), str(png), '--out', str(out)]
    assert infer.main([*argv, '--cam-dir', str(cams)]) == 0
    summary = capsys.readouterr().out
    assert 'WARNING: 1 heat-map(s) are flat' in summary and png.name in summary
