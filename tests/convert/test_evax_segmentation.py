"""The EVA-X SIIM recipe runs on EVA-X weights: a converted EVA-X MIM file
(seed layout, random values, tiny dims) loads strictly into the recipe's
``EVAX`` backbone (position embedding resampled from the 224-px-equivalent
grid to the 512-px-equivalent one, RoPE on the larger grid) and trains 2
iterations through the simple feature pyramid."""

from __future__ import annotations

import pytest
from cxr_test_utils import REPO_ROOT

from cxr_plugins.convert import convert_checkpoint
from cxr_plugins.engine.checkpoint import save_weights

pytestmark = pytest.mark.usefixtures('mmseg_scope')

CONFIG = (
    REPO_ROOT / 'configs/segmentation/evax/'
    'upernet_vit-small-p16-simple-pyramid_evax-pre_1xb8-50e_siim-512x512.py'
)


@pytest.mark.slow
def test_evax_siim_recipe_trains_from_a_converted_evax_file(
    tmp_path, siim_prepared, tiny_config
):
    from mmengine.runner import Runner

    from tests.convert.test_seed_parity import evax_seed_layout, timm_eva

    state = evax_seed_layout(timm_eva(base=False, seed=8), mim=True)  # 32 px, grid 4
    converted, report, _ = convert_checkpoint({'module': state}, arch='demo')
    path = tmp_path / 'evax-demo.pth'
    save_weights(converted, path)
    cfg = tiny_config(CONFIG, tmp_path / 'work', siim_prepared)
    assert cfg.model.backbone.type == 'mmpretrain.EVAX'
    cfg.model.backbone.init_cfg = dict(
        type='CXRPretrained',
        checkpoint=str(path),
        prefix='backbone.',
        allowed_unexpected=['fc_norm.*'],
    )
    runner = Runner.from_cfg(cfg)
    runner.train()
    assert runner.iter == 2
    backbone = runner.model.backbone
    # Loaded (grid 4 -> 8 resampled; 64-px input, 8-px patches) and trained.
    moved = (
        (
            backbone.blocks[1].attn.qkv.weight
            - converted['backbone.blocks.1.attn.qkv.weight']
        )
        .abs()
        .max()
    )
    assert 0 < moved < 1e-2
    assert backbone.pos_embed.shape == (1, 65, 64)
