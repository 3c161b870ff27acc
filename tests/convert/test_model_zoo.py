"""The model zoo: the page matches the table, and one row runs convert ->
train (2 iterations) -> test on a random-weight file in the seed's layout."""

from __future__ import annotations

import json

import pytest
import torch
from cxr_test_utils import REPO_ROOT, load_tool

from cxr_plugins.convert.zoo import ZOO, zoo_markdown


def test_zoo_page_shows_every_row_and_each_config_exists():
    page = (REPO_ROOT / 'docs/model_zoo.md').read_text()
    assert zoo_markdown() in page
    assert '(docs/model_zoo.md)' in (REPO_ROOT / 'README.md').read_text()
    for entry in ZOO.values():
        if entry.config:
            assert (REPO_ROOT / entry.config).is_file(), entry.config
            assert entry.output in (REPO_ROOT / entry.config).read_text() or (
                entry.output.rsplit('/', 1)[-1]
                in (REPO_ROOT / entry.config).read_text()
            ), (entry.name, entry.output)


@pytest.mark.slow
def test_zoo_row_converts_trains_and_tests(tmp_path, monkeypatch):
    """medmae-vit-small-0.3m: seed layout -> --zoo -> recipe (demo data, 64 px)."""
    import argparse

    from mmengine.config import Config
    from mmengine.runner import Runner

    from tests.convert.test_convert_checkpoint import mae_pretrain_state

    entry = ZOO['medmae-vit-small-0.3m']
    # ViT-S/16 at 224 px, as released: 12 x 384, decoder, mask token, norm.
    state = mae_pretrain_state(embed_dim=384, depth=12, img_size=224, patch_size=16)
    monkeypatch.chdir(tmp_path)
    src = tmp_path / 'seed.pth'
    torch.save(
        {'model': state, 'epoch': 799, 'args': argparse.Namespace(model='x')}, src
    )
    tool = load_tool('tools/convert/convert_checkpoint.py')
    assert tool.main([str(src), '--zoo', entry.name, '--unsafe-load']) == 0
    report = json.loads((tmp_path / (entry.output + '.report.json')).read_text())
    assert (
        report['counts']['errors'] == 0
        and report['counts']['mapped'] == 2 + 2 + 12 * 12
    )

    cfg = Config.fromfile(REPO_ROOT / entry.config)
    demo = Config.fromfile(
        REPO_ROOT / 'configs/demo/vit-demo-p8_1xb64-30e_nih14-demo-64px.py'
    )
    cfg.model.backbone.img_size = 64  # pos_embed resampled on load: 14x14 -> 4x4
    for name in ('train_dataloader', 'val_dataloader', 'test_dataloader'):
        loader = demo[name]
        loader.dataset.data_root = str(REPO_ROOT / 'data/demo/nih14_64px')
        loader.dataset.indices = 4
        loader.update(batch_size=2, num_workers=0, persistent_workers=False)
        cfg[name] = loader
    cfg.train_cfg = dict(type='IterBasedTrainLoop', max_iters=2, val_interval=100)
    cfg.param_scheduler = []
    cfg.val_dataloader = cfg.val_evaluator = cfg.val_cfg = None
    cfg.test_evaluator = dict(type='MultiLabelAUC')
    cfg.default_hooks.checkpoint = dict(
        type='CheckpointHook', interval=2, by_epoch=False
    )
    cfg.visualizer.vis_backends = [dict(type='LocalVisBackend')]
    cfg.work_dir = str(tmp_path / 'work')
    runner = Runner.from_cfg(cfg)
    runner.train()
    assert runner.iter == 2
    # The converted block weights arrived (then moved by 2 AdamW steps).
    converted = torch.load(tmp_path / entry.output)['state_dict']
    moved = (
        (
            runner.model.backbone.layers[11].attn.qkv.weight
            - converted['backbone.layers.11.attn.qkv.weight']
        )
        .abs()
        .max()
    )
    assert 0 < moved < 1e-2

    cfg.load_from = str(tmp_path / 'work/iter_2.pth')
    cfg.work_dir = str(tmp_path / 'test')
    metrics = Runner.from_cfg(cfg).test()
    assert any('mAUC' in key for key in metrics), metrics
