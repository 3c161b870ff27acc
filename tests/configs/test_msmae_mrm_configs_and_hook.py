"""MSMAE/MRM configs build and train 2 iterations; the attention hook's
schedule, refresh and checkpoint round trip."""

import copy

import numpy as np
import pandas as pd
import pytest
import torch
from cxr_test_utils import TINY_VIT_ARCH
from mmengine.config import Config
from mmengine.runner import Runner
from PIL import Image

from cxr_plugins.datasets.image_report import load_iu_xray_reports
from cxr_plugins.datasets.text_tokenizer import train_report_tokenizer
from cxr_plugins.engine.hooks.msmae_attention import is_refresh_epoch

CONFIG_DIR = 'configs/pretrain'
MSMAE_FULL = 'msmae/msmae_vit-base-p16_dec512d8b_1xb64-300e_cxr-imagefolder.py'
MSMAE_DEMO = 'msmae/msmae_vit-demo-p8_dec128d2b_1xb32-30e_nih14-demo-64px.py'
MRM_FULL = 'mrm/mrm_vit-base-p16_dec768d4b_4xb32-accum2-200e_mimic-cxr-448px.py'
MRM_DEMO = 'mrm/mrm_vit-demo-p8_dec128d2b_1xb32-30e_covid-notes-128px.py'
TINY_ARCH = dict(TINY_VIT_ARCH, embed_dims=64, num_heads=4, feedforward_channels=128)


def test_refresh_schedule_matches_reference():
    epochs = [e for e in range(300) if is_refresh_epoch(e, 40, 40)]
    assert epochs == [40, 80, 120, 160, 200, 240, 280]
    assert [e for e in range(5) if is_refresh_epoch(e, 0, 2)] == [0, 2, 4]


def _write_png(path, size=40):
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(np.random.randint(0, 255, (size, size), np.uint8)).save(path)


@pytest.fixture(scope='module')
def image_folder(tmp_path_factory):
    root = tmp_path_factory.mktemp('imagefolder')
    for label in ('normal', 'pneumonia'):
        for i in range(3):
            _write_png(root / 'train' / label / f'{label}_{i}.png')
    return root


@pytest.fixture(scope='module')
def tokenizer_file(shared_data, tmp_path_factory):
    reports = load_iu_xray_reports(
        shared_data / 'labels' / 'iu_xray_openi' / 'NLMCXR_reports.tgz'
    )
    path = tmp_path_factory.mktemp('tok') / 'wordpiece.json'
    train_report_tokenizer(reports[:500], vocab_size=1000).save(str(path))
    return path


def _load(repo_root, name, work_dir, batch_size=2, num_samples=4):
    cfg = Config.fromfile(str(repo_root / CONFIG_DIR / name))
    cfg.work_dir = str(work_dir)
    cfg.train_dataloader.update(
        batch_size=batch_size, num_workers=0, persistent_workers=False
    )
    cfg.train_dataloader.dataset.indices = num_samples
    cfg.train_cfg.max_epochs = 1
    cfg.default_hooks.logger.interval = 1
    cfg.visualizer.vis_backends = [dict(type='LocalVisBackend')]
    return cfg


def _tokenizer_step(pipeline):
    return next(t for t in pipeline if t['type'] == 'MRMTokenizeReport')


def _set_scale(pipeline, size):
    for transform in pipeline:
        if transform['type'] == 'FastXRayRandomResizedCrop':
            transform['size'] = size
        elif 'scale' in transform:
            transform['scale'] = size if transform['type'] != 'Resize' else (size, size)


def _tiny_msmae(cfg, img_size=32, patch_size=8):
    cfg.model.backbone.update(arch=TINY_ARCH, img_size=img_size, patch_size=patch_size)
    cfg.model.neck.update(
        num_patches=(img_size // patch_size) ** 2,
        patch_size=patch_size,
        embed_dim=64,
        decoder_embed_dim=32,
        decoder_depth=1,
        decoder_num_heads=4,
    )
    cfg.model.head.patch_size = patch_size
    _set_scale(cfg.train_dataloader.dataset.pipeline, img_size)
    _set_scale(cfg.custom_hooks[0].pipeline, img_size)


def _train(cfg):
    runner = Runner.from_cfg(cfg)
    runner.train()
    return runner


def _final_losses(runner):
    scalars = runner.message_hub.log_scalars
    return {k: v.current() for k, v in scalars.items() if 'loss' in k}


@pytest.mark.slow
def test_msmae_full_config_trains_and_round_trips_maps(
    repo_root, image_folder, tmp_path
):
    cfg = _load(repo_root, MSMAE_FULL, tmp_path / 'run', num_samples=6, batch_size=3)
    assert cfg.model.mask_ratio == 0.45 and cfg.model.throw_ratio == 0.3
    assert cfg.custom_hooks[0].warmup_epochs == 40 and cfg.train_cfg.max_epochs == 1
    cfg.train_dataloader.dataset.data_root = str(image_folder)
    _tiny_msmae(cfg)
    # Refresh before epochs 1 and 2: epoch 0 random, epochs 1-2 attention-driven.
    cfg.custom_hooks[0].update(warmup_epochs=1, interval=1, num_workers=0)
    cfg.train_cfg.max_epochs = 2
    cfg.default_hooks.checkpoint = dict(type='CheckpointHook', interval=1)
    runner = _train(cfg)
    model = runner.model
    assert model.has_attention_maps and model.attention_maps.shape == (6, 4, 4)
    assert all(np.isfinite(v) for v in _final_losses(runner).values())
    epoch1 = torch.load(tmp_path / 'run' / 'epoch_1.pth', weights_only=False)
    epoch2 = torch.load(tmp_path / 'run' / 'epoch_2.pth', weights_only=False)
    assert epoch1['state_dict']['attention_maps'].shape == (0, 4, 4)  # before refresh
    saved = epoch2['state_dict']['attention_maps']
    assert torch.equal(saved, model.attention_maps.cpu())
    assert any(k.startswith('backbone.layers.') for k in epoch2['state_dict'])

    # Resume at epoch 2 with no refresh due: the maps come from the checkpoint.
    resumed_cfg = copy.deepcopy(cfg)
    resumed_cfg.train_cfg.max_epochs = 3
    resumed_cfg.custom_hooks[0].interval = 10
    resumed_cfg.resume = True
    resumed_cfg.load_from = str(tmp_path / 'run' / 'epoch_2.pth')
    resumed = Runner.from_cfg(resumed_cfg)
    resumed.train()
    assert torch.equal(resumed.model.attention_maps.cpu(), saved)


def test_msmae_demo_config_runs(repo_root, tmp_path):
    cfg = _load(repo_root, MSMAE_DEMO, tmp_path)
    cfg.custom_hooks[0].update(warmup_epochs=0, interval=1)
    runner = _train(cfg)
    assert runner.model.attention_maps.shape == (4, 8, 8)
    assert runner.iter == 2


def _write_report_csv(root, count=4):
    for i in range(count):
        _write_png(root / 'img' / f'{i}.png', size=80)
    pd.DataFrame(
        {
            'image_path': [f'{i}.png' for i in range(count)],
            'report_content': ['FINDINGS: The heart is normal. No effusion.'] * count,
        }
    ).to_csv(root / 'training.csv', index=False)


def test_mrm_full_config_runs(repo_root, tmp_path, tokenizer_file):
    cfg = _load(repo_root, MRM_FULL, tmp_path / 'run')
    assert cfg.model.neck.patch_size == 32 and cfg.model.head.norm_pix
    assert cfg.optim_wrapper.accumulative_counts == 2
    _write_report_csv(tmp_path)
    cfg.train_dataloader.dataset.update(data_root=str(tmp_path), data_prefix='img')
    cfg.model.update(encoder_size=32)
    cfg.model.backbone.update(arch=TINY_ARCH, img_size=32, patch_size=8)
    cfg.model.neck.update(
        num_patches=16,
        patch_size=16,
        embed_dim=64,
        decoder_embed_dim=32,
        decoder_depth=1,
        decoder_num_heads=4,
    )
    cfg.model.head.patch_size = 16
    cfg.model.text_encoder.update(
        vocab_size=1000,
        hidden_dims=32,
        num_layers=1,
        num_heads=4,
        feedforward_channels=64,
    )
    pipeline = cfg.train_dataloader.dataset.pipeline
    _set_scale(pipeline, 64)
    _tokenizer_step(pipeline)['tokenizer_file'] = str(tokenizer_file)
    runner = _train(cfg)
    assert runner.iter == 2
    losses = _final_losses(runner)
    assert {'loss_image', 'loss_report'} <= {k.split('/')[-1] for k in losses}


def test_mrm_demo_config_runs_on_covid_notes(
    repo_root, tmp_path, shared_data, tokenizer_file
):
    cfg = _load(repo_root, MRM_DEMO, tmp_path)
    cfg.train_dataloader.dataset.data_root = str(shared_data / 'covid_cxr')
    pipeline = cfg.train_dataloader.dataset.pipeline
    _tokenizer_step(pipeline)['tokenizer_file'] = str(tokenizer_file)
    cfg.model.text_encoder.vocab_size = 1000
    runner = _train(cfg)
    assert runner.iter == 2


@pytest.mark.parametrize('arch', ['tiny', 'small'])
def test_sam_classifier_trains_on_kept_patches_and_predicts_on_full(arch):
    from mmpretrain.registry import MODELS
    from mmpretrain.structures import DataSample

    model = MODELS.build(
        dict(
            type='MSMAEClassifier',
            mask_ratio=0.45,
            throw_ratio=0.3,
            backbone=dict(type='CXRViT', arch=arch, img_size=32, patch_size=8),
            head=dict(
                type='LinearClsHead',
                num_classes=2,
                in_channels=192 if arch == 'tiny' else 384,
            ),
        )
    )
    model.init_weights()
    inputs = torch.randn(2, 3, 32, 32)
    whole_image = np.array([0, 0, 1, 1], dtype=np.float32)
    samples = [
        DataSample(
            metainfo=dict(sample_idx=i, crop_box=whole_image, flip=False)
        ).set_gt_label(i)
        for i in range(2)
    ]
    with pytest.raises(KeyError, match='crop_box'):
        model.patch_weights([DataSample(metainfo=dict(sample_idx=0))])
    model.store_attention_maps(
        torch.arange(2), model.compute_attention_maps(inputs), num_samples=2
    )
    assert model.attention_maps.shape == (2, 4, 4)

    torch.manual_seed(0)
    loss = model.loss(inputs, samples)['loss']
    torch.manual_seed(0)
    weights = model.patch_weights(samples)
    from cxr_plugins.models.selfsup.attention_masking import KEPT, attention_mask_throw

    codes = attention_mask_throw(weights, 0.45, 0.3).codes
    assert (codes == KEPT).sum(1).tolist() == [4, 4]
    # Changing pixels outside the kept patches leaves the training loss alone...
    hidden = (codes != KEPT).reshape(2, 1, 4, 1, 4, 1).expand(2, 3, 4, 8, 4, 8)
    changed = inputs + 5.0 * hidden.reshape(2, 3, 32, 32)
    torch.manual_seed(0)
    torch.testing.assert_close(model.loss(changed, samples)['loss'], loss)
    # ...while prediction sees the full image.
    model.eval()
    full = model.predict(inputs, samples)[0].pred_score
    assert not torch.allclose(model.predict(changed, samples)[0].pred_score, full)
