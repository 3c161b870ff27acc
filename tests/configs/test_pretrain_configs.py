"""Every pretraining config: seed hyperparameters, then 2 CPU iterations.

Full-size configs are shrunk (tiny ViT, 64 px demo images) but keep their
algorithm, schedule, optimizer and hooks; the demo configs run as written on
4 demo images. The demo runs then go through export and the figure tool.
"""

import importlib.util
import math
import sys

import pytest
import torch
from cxr_test_utils import REPO_ROOT, TINY_VIT_ARCH
from mmengine.config import Config
from mmengine.runner import Runner

import cxr_plugins  # noqa: F401
from cxr_plugins.models.backbones.cxr_vit import CXRViT

REPO = REPO_ROOT
CONFIG_DIR = REPO / 'configs' / 'pretrain'
OWN_METHODS = ('mae', 'cnn_mae', 'evax')
CONFIGS = sorted(
    path for method in OWN_METHODS for path in (CONFIG_DIR / method).glob('*.py')
)
DEMO_DATA = str(REPO / 'configs/_base_/datasets/pretrain_nih14-demo_64px.py')


def config_id(path):
    return path.stem


def test_configs_found():
    assert {p.parent.name for p in CONFIGS} == set(OWN_METHODS)
    assert len(CONFIGS) >= 7


@pytest.mark.parametrize(
    'path', [p for p in CONFIGS if 'demo' not in p.stem], ids=config_id
)
def test_full_configs_follow_the_seed_schedule(path):
    cfg = Config.fromfile(path)
    optimizer = cfg.optim_wrapper.optimizer
    assert optimizer.type == 'AdamW' and optimizer.betas == (0.9, 0.95)
    assert optimizer.lr == 1.5e-4 and optimizer.weight_decay == 0.05
    assert cfg.optim_wrapper.paramwise_cfg.norm_decay_mult == 0.0
    assert cfg.optim_wrapper.paramwise_cfg.bias_decay_mult == 0.0
    assert cfg.auto_scale_lr == dict(base_batch_size=256, enable=True)
    assert cfg.train_dataloader.batch_size == 256
    warmup, cosine = cfg.param_scheduler
    assert warmup.end == 40 and warmup.convert_to_iter_based
    assert cosine.type == 'CosineAnnealingLR' and cosine.convert_to_iter_based
    assert cosine.end == cfg.train_cfg.max_epochs
    expected_epochs = 600 if cfg.model.type == 'EVAXMIM' else 800
    assert cfg.train_cfg.max_epochs == expected_epochs
    datasets = cfg.train_dataloader.dataset.datasets
    assert cfg.train_dataloader.dataset.type == 'ConcatDataset'
    assert [d.type for d in datasets][:2] == ['NIHChestXray14', 'CheXpert']
    if cfg.model.type == 'CXRMAE':
        assert cfg.model.backbone.mask_ratio == 0.9
        assert cfg.model.neck.decoder_embed_dim == 512
        depth = 2 if 'small' in path.stem else 8
        assert cfg.model.neck.decoder_depth == depth
        assert len(datasets) == (3 if 'mimic' in path.stem else 2)
    if cfg.model.type == 'CNNMAE':
        assert cfg.model.mask_ratio == 0.75 and cfg.model.patch_size == 16


def shrink(cfg, tmp_path):
    """Tiny model + 4 demo images + 1 epoch of batch 2, in place."""
    demo = Config.fromfile(DEMO_DATA)
    dataset = demo.train_dataloader.dataset
    dataset.data_root = str(REPO / 'data' / 'demo' / 'nih14_64px')
    dataset.indices = 4
    cfg.train_dataloader = dict(
        batch_size=2,
        num_workers=0,
        persistent_workers=False,
        sampler=dict(type='DefaultSampler', shuffle=True),
        collate_fn=dict(type='default_collate'),
        dataset=dataset,
    )
    cfg.train_cfg = dict(type='EpochBasedTrainLoop', max_epochs=1)
    cfg.work_dir = str(tmp_path / 'work')
    cfg.vis_backends = [dict(type='LocalVisBackend')]
    cfg.visualizer = dict(type='UniversalVisualizer', vis_backends=cfg.vis_backends)
    model = cfg.model
    if model.type == 'CXRMAE' and model.backbone.img_size != 64:
        patch = model.backbone.patch_size
        model.backbone.update(arch=TINY_VIT_ARCH, img_size=64)
        model.neck.update(
            num_patches=(64 // patch) ** 2,
            embed_dim=32,
            decoder_embed_dim=32,
            decoder_num_heads=2,
        )
    if model.type == 'EVAXMIM':
        patch = model.backbone.patch_size
        model.backbone.update(arch=TINY_VIT_ARCH, img_size=64)
        teacher = CXRViT(
            arch=TINY_VIT_ARCH,
            img_size=64,
            patch_size=patch,
            out_type='featmap',
            final_norm=True,
        )
        teacher_file = tmp_path / 'teacher.pth'
        torch.save(dict(state_dict=teacher.state_dict()), teacher_file)
        model.teacher.update(
            arch=TINY_VIT_ARCH,
            img_size=64,
            init_cfg=dict(type='CXRPretrained', checkpoint=str(teacher_file)),
        )
        model.min_block_patches = 2


def load_tool(relative):
    path = REPO / relative
    spec = importlib.util.spec_from_file_location(path.stem, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def run_params():
    """MAE configs run in the quick suite; DenseNet U-Net / teacher ones are slow."""
    return [
        pytest.param(
            path,
            id=config_id(path),
            marks=() if path.parent.name == 'mae' else pytest.mark.slow,
        )
        for path in CONFIGS
    ]


@pytest.mark.parametrize('path', run_params())
def test_config_trains_two_iterations(path, tmp_path, monkeypatch):
    cfg = Config.fromfile(path)
    shrink(cfg, tmp_path)
    runner = Runner.from_cfg(cfg)
    runner.train()
    assert runner.iter == 2
    losses = {
        key: buffer.current()
        for key, buffer in runner.message_hub.log_scalars.items()
        if 'loss' in key
    }
    assert losses and all(math.isfinite(v) for v in losses.values()), losses
    checkpoint = tmp_path / 'work' / 'epoch_1.pth'
    assert checkpoint.is_file()
    if 'demo' not in path.stem:
        return
    # demo configs: export the backbone and draw the reconstruction figure
    exported = load_tool('tools/export_backbone.py').export_backbone(
        str(checkpoint), str(tmp_path / 'backbone.pth')
    )
    assert exported
    figure = tmp_path / 'figure.png'
    images = sorted((REPO / 'data' / 'demo' / 'nih14_64px' / 'images').glob('*.png'))
    cfg_file = tmp_path / 'run_config.py'
    cfg.dump(str(cfg_file))
    monkeypatch.setattr(
        sys,
        'argv',
        [
            'vis_reconstruction.py',
            str(cfg_file),
            str(checkpoint),
            '--images',
            str(images[0]),
            str(images[1]),
            '--out',
            str(figure),
        ],
    )
    load_tool('tools/analysis/vis_reconstruction.py').main()
    assert figure.stat().st_size > 5000
