"""Every config: it loads, reads no dead keys and builds; each family trains.

One module for all configs under ``configs/``:

1. every leaf config loads, carries no mmcv-1.x keys, and every top-level key
   is either read by mmengine's ``Runner`` or used by a config of its
   inheritance chain; its model, optimizer wrapper, lr schedulers, hooks,
   pipeline transforms and evaluators build (unknown kwargs fail here);
2. the dataset bases build their datasets on the real label files;
3. every classification, pretraining and segmentation config trains two CPU
   iterations shrunk to tiny sizes (``config_shrink.py``), and a new dataset is
   added by inheritance alone.
"""

from __future__ import annotations

import ast
import copy
import inspect
import math
import re
import shutil
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch
from config_shrink import (
    TINY_BACKBONES,
    TINY_WIDE_ARCH,
    final_losses,
    load_pretrain_config,
    set_scale,
    shrink_pretrain,
    tiny_cls_dataset,
    tiny_msmae,
    tokenizer_step,
    train,
    write_image_folder,
    write_png,
    write_report_csv,
)
from cxr_test_utils import REPO_ROOT, load_tool, output_of, run_tool
from mmengine.config import Config
from mmengine.dataset import pseudo_collate
from mmengine.optim import build_optim_wrapper
from mmengine.registry import (
    HOOKS,
    METRICS,
    MODELS,
    PARAM_SCHEDULERS,
    TRANSFORMS,
    VISUALIZERS,
    DefaultScope,
)
from mmengine.runner import FlexibleRunner, Runner
from mmpretrain.models.utils import ClsDataPreprocessor
from mmpretrain.registry import DATASETS

import cxr_plugins  # noqa: F401  (registration)
from cxr_plugins.datasets.image_report import load_iu_xray_reports
from cxr_plugins.datasets.text_tokenizer import train_report_tokenizer

CONFIG_DIR = REPO_ROOT / 'configs'
CONFIGS = sorted(p for p in CONFIG_DIR.rglob('*.py') if '_base_' not in p.parts)
CLS_RECIPES = [
    p
    for p in CONFIGS
    if 'classification' in p.parts or Config.fromfile(p).model.type == 'ImageClassifier'
]
PRETRAIN_METHODS = ('mae', 'cnn_mae', 'evax')
PRETRAIN_CONFIGS = sorted(
    p
    for method in PRETRAIN_METHODS
    for p in (CONFIG_DIR / 'pretrain' / method).glob('*.py')
)
SEG_CONFIGS = [p for p in CONFIGS if Config.fromfile(p).default_scope == 'mmseg']
MSMAE_FULL = 'msmae/msmae_vit-base-p16_dec512d8b_1xb64-300e_cxr-imagefolder.py'
MSMAE_DEMO = 'msmae/msmae_vit-demo-p8_dec128d2b_1xb32-30e_nih14-demo-64px.py'
MRM_FULL = 'mrm/mrm_vit-base-p16_dec768d4b_4xb32-accum2-200e_mimic-cxr-448px.py'
MRM_DEMO = 'mrm/mrm_vit-demo-p8_dec128d2b_1xb32-30e_covid-notes-128px.py'
NEW_SITE_RECIPE = CONFIG_DIR / 'demo/vit-demo-p8_mae-pre_1xb64-15e_nih14-demo-64px.py'
# Keys of the mmcv 1.x / MMSeg 0.x era that the mmengine Runner never reads.
LEGACY_KEYS = {
    'fp16',
    'optimizer',
    'optimizer_config',
    'lr_config',
    'runner',
    'workflow',
    'total_epochs',
    'checkpoint_config',
    'log_config',
    'evaluation',
    'data',
    'dist_params',
}
# Top-level keys the Runner or FlexibleRunner reads (their constructors'
# arguments), the two mmengine's Config itself consumes, and ``threads``
# (read by tools/train.py's thread policy, cxr_plugins.apis.launch).
RUNNER_KEYS = (
    set(inspect.signature(Runner.__init__).parameters)
    | set(inspect.signature(FlexibleRunner.__init__).parameters)
) - {'self'} | {'custom_imports', 'default_scope', 'threads'}


def _rel(path: Path) -> str:
    return str(path.relative_to(CONFIG_DIR))


def test_every_family_has_configs():
    assert len(CONFIGS) >= 35
    assert len(CLS_RECIPES) >= 18
    assert {p.parent.name for p in PRETRAIN_CONFIGS} == set(PRETRAIN_METHODS)
    assert len(PRETRAIN_CONFIGS) >= 7
    assert {p.parent.name for p in SEG_CONFIGS} == {'mrm', 'evax', 'smp', 'demo'}
    assert len(SEG_CONFIGS) >= 8


# --- 1. every config loads, reads no dead keys, and builds its parts ------


def _inheritance_chain(path: Path) -> list[Path]:
    """``path`` and every file it inherits from (``_base_``, recursively)."""
    chain, todo = [], [path.resolve()]
    while todo:
        current = todo.pop()
        if current in chain:
            continue
        chain.append(current)
        match = re.search(
            r'^_base_ = (\[.*?\]|\'.*?\')', current.read_text(), re.M | re.S
        )
        if match:
            bases = ast.literal_eval(match.group(1))
            for base in [bases] if isinstance(bases, str) else bases:
                todo.append((current.parent / base).resolve())
    return chain


def _names_read(files: list[Path]) -> set[str]:
    """Every name the files read (``x`` in ``dict(end=x)``, ``_base_.x``)."""
    names = set()
    for file in files:
        for node in ast.walk(ast.parse(file.read_text())):
            if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Load):
                names.add(node.id)
            elif (
                isinstance(node, ast.Attribute)
                and isinstance(node.value, ast.Name)
                and node.value.id == '_base_'
            ):
                names.add(node.attr)
    return names


@pytest.mark.parametrize('path', CONFIGS, ids=_rel)
def test_config_has_no_unread_keys(path):
    """A top-level key is read by the Runner or used by a config of the chain.

    Helper variables (``data_root``, ``warmup_epochs``, ``train_pipeline``)
    are fine as long as some config reads them; a key nobody reads is a
    setting that silently does nothing.
    """
    cfg = Config.fromfile(str(path))
    dead = LEGACY_KEYS & set(cfg.keys())
    assert not dead, f'{path}: legacy keys the runner ignores: {sorted(dead)}'
    unread = set(cfg.keys()) - RUNNER_KEYS - _names_read(_inheritance_chain(path))
    assert not unread, f'{path}: top-level keys nothing reads: {sorted(unread)}'


def _pipelines(cfg: Config) -> list[list]:
    pipelines = []
    for key in ('train_dataloader', 'val_dataloader', 'test_dataloader'):
        if not cfg.get(key):  # pretraining configs have no evaluation data
            continue
        dataset = cfg[key].dataset
        for part in dataset.get('datasets', [dataset]):
            pipelines.append(part.pipeline)
    for hook in cfg.get('custom_hooks', []):
        if 'pipeline' in hook:
            pipelines.append(hook['pipeline'])
    return pipelines


@pytest.mark.parametrize('path', CONFIGS, ids=_rel)
def test_config_builds(path, request):
    """Model, optimizer wrapper, schedulers, hooks, transforms, evaluators."""
    cfg = Config.fromfile(str(path))
    assert cfg.get('default_scope') in ('mmpretrain', 'mmseg'), path
    assert 'cxr_plugins' in cfg.custom_imports['imports'], path
    if cfg.default_scope == 'mmseg':
        import cxr_plugins.seg  # noqa: F401
    with DefaultScope.overwrite_default_scope(cfg.default_scope):
        model = MODELS.build(cfg.model)
        assert sum(p.numel() for p in model.parameters()) > 0
        optim_wrapper = build_optim_wrapper(model, copy.deepcopy(cfg.optim_wrapper))
        schedulers = cfg.param_scheduler
        for scheduler in [schedulers] if isinstance(schedulers, dict) else schedulers:
            PARAM_SCHEDULERS.build(
                scheduler, default_args=dict(optimizer=optim_wrapper, epoch_length=10)
            )
        # hooks look the visualizer up; its backends are left out (no files)
        VISUALIZERS.build(
            dict(cfg.visualizer, name=f'build-{path.stem}', vis_backends=[])
        )
        for hook in [*cfg.default_hooks.values(), *cfg.get('custom_hooks', [])]:
            HOOKS.build(copy.deepcopy(hook))
        for pipeline in _pipelines(cfg):
            for step in pipeline:
                step = copy.deepcopy(step)
                if 'tokenizer_file' in step:  # MRM: the tokenizer is trained data
                    step['tokenizer_file'] = str(
                        request.getfixturevalue('tokenizer_file')
                    )
                TRANSFORMS.build(step)
        for key in ('val_evaluator', 'test_evaluator'):
            evaluators = cfg.get(key) or []
            for evaluator in (
                evaluators if isinstance(evaluators, list) else [evaluators]
            ):
                METRICS.build(copy.deepcopy(evaluator))


# --- 2. dataset bases on the real label files ----------------------------


DATASET_BASES = [
    'cls_nih-cxr14_224px',
    'cls_chexpert_224px',
    'cls_mimic-cxr-abnormal_224px',
    'cls_covidx9a_224px',
    'cls_rsna-pneumonia_224px',
    'cls_cxr-imagefolder_224px',
]
# Where the real label files let a config's datasets be built as configured
# (only data_root / ann_file pointed at ../shared/data).
REAL_LABELS = {
    'cls_nih-cxr14_224px': (
        'nih_cxr14',
        dict(
            train_dataloader='mrm_splits/train_10.txt',
            val_dataloader='mrm_splits/val_list.txt',
            test_dataloader='mrm_splits/test_list.txt',
        ),
    ),
    'cls_covidx9a_224px': ('covidx', {}),
    'cls_rsna-pneumonia_224px': ('rsna_pneumonia', {}),
}


def test_nih14_demo_config(repo_root):
    cfg = Config.fromfile(repo_root / 'configs/_base_/datasets/cls_nih14-demo_64px.py')
    preprocessor = ClsDataPreprocessor(**cfg.data_preprocessor)
    seen = {}
    for key in ('train_dataloader', 'val_dataloader', 'test_dataloader'):
        dataset_cfg = cfg[key].dataset
        dataset_cfg.data_root = str(repo_root / dataset_cfg.data_root)
        dataset = DATASETS.build(dataset_cfg)
        seen[key] = set(dataset.table.patient_id)
        batch = preprocessor(pseudo_collate([dataset[i] for i in range(4)]))
        assert batch['inputs'].shape == (4, 3, 64, 64)
        assert batch['inputs'].dtype.is_floating_point
        assert abs(float(batch['inputs'].mean())) < 3
        scores = np.stack([s.gt_score.numpy() for s in batch['data_samples']])
        assert scores.shape == (4, 14)
    assert not seen['train_dataloader'] & seen['test_dataloader']
    assert not seen['val_dataloader'] & seen['test_dataloader']
    assert cfg.val_evaluator['type'] == 'MultiLabelAUC'


@pytest.mark.parametrize('name', DATASET_BASES)
def test_dataset_base_configs(name, repo_root, shared_data):
    from mmpretrain.registry import TRANSFORMS

    cfg = Config.fromfile(repo_root / f'configs/_base_/datasets/{name}.py')
    assert cfg.data_preprocessor['to_rgb'] is False
    for key in ('train_dataloader', 'val_dataloader', 'test_dataloader'):
        dataset_cfg = cfg[key].dataset
        assert DATASETS.get(dataset_cfg.type) is not None
        transforms = [TRANSFORMS.build(t) for t in dataset_cfg.pipeline]
        first = 'FastXRayRandomResizedCrop' if key == 'train_dataloader' else None
        assert type(transforms[0]).__name__ == (first or 'LoadXRayImage')
        if name not in REAL_LABELS:
            continue
        folder, ann_files = REAL_LABELS[name]
        dataset_cfg.data_root = str(shared_data / 'labels' / folder)
        dataset_cfg.ann_file = ann_files.get(key, dataset_cfg.ann_file)
        dataset = DATASETS.build(dataset_cfg)
        assert len(dataset) > 100
        assert len(dataset.metainfo['classes']) == cfg.data_preprocessor.num_classes


# --- 3. classification recipes train 2 iterations ------------------------


@pytest.mark.parametrize('config', CLS_RECIPES, ids=lambda p: p.stem)
def test_recipe_trains_two_iterations(config, tmp_path, demo_dir):
    cfg = Config.fromfile(str(config))
    backbone = cfg.model.backbone
    overrides, channels = TINY_BACKBONES[backbone.type]
    backbone.update(overrides)
    backbone.pop('init_cfg', None)
    head = cfg.model.head
    head.in_channels = channels
    multi_label = head.type.startswith('MultiLabel')
    # the embedded PneumoniaMNIST arrays are the demo's own data: keep them
    own_data = cfg.train_dataloader.dataset.type == 'MedMNIST'
    if multi_label and not own_data:
        head.num_classes = 14
    cfg.data_preprocessor.num_classes = head.num_classes
    folder = (
        None if multi_label else write_image_folder(tmp_path / 'data', head.num_classes)
    )
    for name, split, size in (
        ('train_dataloader', 'train', 4),
        ('val_dataloader', 'val', 40),
        ('test_dataloader', 'test', 40),
    ):
        loader = cfg[name]
        if loader is None:  # no validation split (the cross-fitted demo)
            continue
        if own_data:
            loader.dataset.indices = size
        else:
            loader.dataset = tiny_cls_dataset(
                loader, split, multi_label, demo_dir, folder, size
            )
        loader.update(
            batch_size=2 if split == 'train' else 20,
            num_workers=0,
            persistent_workers=False,
        )
    if cfg.train_cfg.get('type') == 'IterBasedTrainLoop':
        cfg.train_cfg.update(max_iters=2, val_interval=2)
    else:
        # val_begin: the demos select only after warm-up; here epoch 1 counts
        cfg.train_cfg.update(max_epochs=1, val_interval=1, val_begin=1)
    cfg.visualizer.vis_backends = [dict(type='LocalVisBackend')]
    cfg.work_dir = str(tmp_path / 'work')
    runner = Runner.from_cfg(cfg)
    runner.train()
    assert runner.iter == 2
    if cfg.val_dataloader is None:  # no selection: the cross-fitted demo
        assert cfg.default_hooks.checkpoint.save_best is None
        return
    best = list((tmp_path / 'work').glob('best_*.pth'))
    assert best, 'save_best on the validation metric wrote no checkpoint'


# --- 4. pretraining configs follow the seeds and train 2 iterations --------


@pytest.mark.parametrize(
    'path',
    [p for p in PRETRAIN_CONFIGS if 'demo' not in p.stem],
    ids=lambda p: p.stem,
)
def test_full_configs_follow_the_seed_schedule(path):
    cfg = Config.fromfile(path)
    optimizer = cfg.optim_wrapper.optimizer
    assert optimizer.type == 'AdamW' and optimizer.betas == (0.9, 0.95)
    assert optimizer.lr == 1.5e-4 and optimizer.weight_decay == 0.05
    assert cfg.optim_wrapper.paramwise_cfg.norm_decay_mult == 0.0
    assert cfg.optim_wrapper.paramwise_cfg.bias_decay_mult == 0.0
    assert cfg.auto_scale_lr == dict(base_batch_size=256, enable=True)
    # per-GPU batch as the file name states (8xb256 as the seeds; the ViT-L
    # FSDP config 8xb128), the lr scaled from 256 either way
    per_gpu = int(re.search(r'\d+xb(\d+)', path.stem).group(1))
    assert cfg.train_dataloader.batch_size == per_gpu
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


@pytest.mark.parametrize('path', PRETRAIN_CONFIGS, ids=lambda p: p.stem)
def test_pretrain_config_trains_two_iterations(path, tmp_path):
    cfg = Config.fromfile(path)
    shrink_pretrain(cfg, tmp_path)
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
    images = sorted(
        (REPO_ROOT / 'data' / 'demo' / 'nih14_64px' / 'images').glob('*.png')
    )
    cfg_file = tmp_path / 'run_config.py'
    cfg.dump(str(cfg_file))
    load_tool('tools/analysis/vis_reconstruction.py').main(
        [
            str(cfg_file),
            str(checkpoint),
            '--images',
            str(images[0]),
            str(images[1]),
            '--out',
            str(figure),
        ]
    )
    assert figure.stat().st_size > 5000


@pytest.fixture(scope='module')
def image_folder(tmp_path_factory):
    root = tmp_path_factory.mktemp('imagefolder')
    for label in ('normal', 'pneumonia'):
        for i in range(3):
            write_png(root / 'train' / label / f'{label}_{i}.png')
    return root


@pytest.fixture(scope='module')
def tokenizer_file(shared_data, tmp_path_factory):
    reports = load_iu_xray_reports(
        shared_data / 'labels' / 'iu_xray_openi' / 'NLMCXR_reports.tgz'
    )
    path = tmp_path_factory.mktemp('tok') / 'wordpiece.json'
    train_report_tokenizer(reports[:500], vocab_size=1000).save(str(path))
    return path


def test_msmae_full_config_trains_and_round_trips_maps(image_folder, tmp_path):
    cfg = load_pretrain_config(
        MSMAE_FULL, tmp_path / 'run', num_samples=6, batch_size=3
    )
    assert cfg.model.mask_ratio == 0.45 and cfg.model.throw_ratio == 0.3
    assert cfg.custom_hooks[0].warmup_epochs == 40 and cfg.train_cfg.max_epochs == 1
    cfg.train_dataloader.dataset.data_root = str(image_folder)
    tiny_msmae(cfg)
    # Refresh before epochs 1 and 2: epoch 0 random, epochs 1-2 attention-driven.
    cfg.custom_hooks[0].update(warmup_epochs=1, interval=1, num_workers=0)
    cfg.train_cfg.max_epochs = 2
    cfg.default_hooks.checkpoint = dict(type='CheckpointHook', interval=1)
    runner = train(cfg)
    model = runner.model
    assert model.has_attention_maps and model.attention_maps.shape == (6, 4, 4)
    assert all(np.isfinite(v) for v in final_losses(runner).values())
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


def test_msmae_demo_config_runs(tmp_path):
    cfg = load_pretrain_config(MSMAE_DEMO, tmp_path)
    cfg.custom_hooks[0].update(warmup_epochs=0, interval=1)
    runner = train(cfg)
    assert runner.model.attention_maps.shape == (4, 8, 8)
    assert runner.iter == 2


def test_mrm_full_config_runs(tmp_path, tokenizer_file):
    cfg = load_pretrain_config(MRM_FULL, tmp_path / 'run')
    assert cfg.model.neck.patch_size == 32 and cfg.model.head.norm_pix
    assert cfg.optim_wrapper.accumulative_counts == 2
    write_report_csv(tmp_path)
    cfg.train_dataloader.dataset.update(data_root=str(tmp_path), data_prefix='img')
    cfg.model.update(encoder_size=32)
    cfg.model.backbone.update(arch=TINY_WIDE_ARCH, img_size=32, patch_size=8)
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
    set_scale(pipeline, 64)
    tokenizer_step(pipeline)['tokenizer_file'] = str(tokenizer_file)
    runner = train(cfg)
    assert runner.iter == 2
    losses = final_losses(runner)
    assert {'loss_image', 'loss_report'} <= {k.split('/')[-1] for k in losses}


def test_mrm_demo_config_runs_on_covid_notes(tmp_path, shared_data, tokenizer_file):
    cfg = load_pretrain_config(MRM_DEMO, tmp_path)
    cfg.train_dataloader.dataset.data_root = str(shared_data / 'covid_cxr')
    pipeline = cfg.train_dataloader.dataset.pipeline
    tokenizer_step(pipeline)['tokenizer_file'] = str(tokenizer_file)
    cfg.model.text_encoder.vocab_size = 1000
    runner = train(cfg)
    assert runner.iter == 2


# --- 5. segmentation configs build a tiny model and train 2 iterations ---


@pytest.mark.parametrize('path', SEG_CONFIGS, ids=lambda p: p.stem)
def test_segmentation_config_forward(
    path, tmp_path, siim_prepared, tiny_config, mmseg_scope
):
    from mmseg.registry import MODELS

    cfg = tiny_config(path, tmp_path, siim_prepared)
    model = MODELS.build(cfg.model)
    logits = model(torch.rand(2, 3, 64, 64), mode='tensor')  # 2: BN in PPM
    assert logits.shape[0] == 2 and logits.shape[1] in (1, 2)


@pytest.mark.parametrize('path', SEG_CONFIGS, ids=lambda p: p.stem)
def test_segmentation_config_trains_two_iterations(
    path, tmp_path, siim_prepared, tiny_config, mmseg_scope
):
    cfg = tiny_config(path, tmp_path, siim_prepared)
    runner = Runner.from_cfg(cfg)
    runner.train()
    assert runner.iter == 2
    history = runner.message_hub.get_scalar('train/loss')
    assert len(history.data[0]) == 2
    assert all(torch.isfinite(torch.tensor(v)) for v in history.data[0])
    metrics = runner.message_hub.get_info('eval_res') or {}
    scalars = runner.message_hub.log_scalars
    assert 'val/Dice' in scalars or 'Dice' in metrics
    assert 0.0 <= scalars['val/Dice'].current() <= 100.0


# --- 6. a new dataset by config inheritance, no new code -----------------


def _make_site(root, demo_dir, count: int = 48) -> None:
    labels = pd.read_csv(demo_dir / 'nih14_64px' / 'labels.csv').head(count)
    (root / 'radiographs').mkdir(parents=True)
    for path in labels['path']:
        shutil.copy(demo_dir / 'nih14_64px' / path, root / 'radiographs')
    labels[['Image Index', 'Finding Labels', 'Patient ID']].to_csv(
        root / 'site_labels.csv', index=False
    )


@pytest.mark.slow
def test_new_dataset_by_config_inheritance(tmp_path, demo_dir):
    site = tmp_path / 'my_site'
    _make_site(site, demo_dir)
    config = tmp_path / 'vit-demo_my-site.py'
    config.write_text(f"""
_base_ = ['{NEW_SITE_RECIPE}']
site = dict(data_root='{site}/', ann_file='site_labels.csv',
            data_prefix=dict(img_path='radiographs/'),
            patient_split=dict(train=0.5, val=0.25, test=0.25))
model = dict(backbone=dict(init_cfg=None))
train_dataloader = dict(batch_size=8, num_workers=0, persistent_workers=False,
                        dataset=site)
val_dataloader = dict(num_workers=0, persistent_workers=False, dataset=site)
test_dataloader = dict(num_workers=0, persistent_workers=False, dataset=site)
train_cfg = dict(max_epochs=1, val_interval=1)
""")
    cfg = Config.fromfile(str(config))
    with DefaultScope.overwrite_default_scope(cfg.default_scope):
        splits = {
            name: DATASETS.build(cfg[f'{name}_dataloader']['dataset'])
            for name in ('train', 'val', 'test')
        }
    assert sum(len(dataset) for dataset in splits.values()) == 48
    paths = [
        splits['train'].get_data_info(i)['img_path']
        for i in range(len(splits['train']))
    ]
    assert all(path.startswith(str(site / 'radiographs')) for path in paths)

    result = run_tool(
        [
            sys.executable,
            'tools/train.py',
            str(config),
            '--work-dir',
            str(tmp_path / 'work'),
        ]
    )
    log = output_of(result)
    assert result.returncode == 0, log[-4000:]
    assert 'auc/mAUC' in log
    assert (tmp_path / 'work' / 'epoch_1.pth').is_file()
