"""Layer-wise lr decay groups follow the Medical MAE rule for CXRViT / EVAX."""

import pytest
from cxr_test_utils import TINY_VIT_ARCH
from mmpretrain.registry import MODELS, OPTIM_WRAPPER_CONSTRUCTORS

import cxr_plugins  # noqa: F401  (registration)

OPTIM = dict(
    type='OptimWrapper', optimizer=dict(type='AdamW', lr=1.0, weight_decay=0.05)
)
PARAMWISE = dict(
    layer_decay_rate=0.5,
    flat_decay_mult=0.0,
    custom_keys={
        '.cls_token': dict(decay_mult=0.0),
        '.pos_embed': dict(decay_mult=0.0),
    },
)
TINY_VIT = dict(
    type='CXRViT',
    arch=TINY_VIT_ARCH,
    img_size=32,
    patch_size=8,
)
TINY_EVAX = dict(
    type='EVAX',
    arch=dict(embed_dim=32, depth=2, num_heads=2),
    img_size=32,
    patch_size=8,
)


def _groups(backbone: dict) -> dict[str, dict]:
    model = MODELS.build(
        dict(
            type='ImageClassifier',
            backbone=backbone,
            head=dict(type='MultiLabelLinearClsHead', num_classes=3, in_channels=32),
        )
    )
    constructor = OPTIM_WRAPPER_CONSTRUCTORS.build(
        dict(
            type='LearningRateDecayOptimWrapperConstructor',
            optim_wrapper_cfg=OPTIM,
            paramwise_cfg=PARAMWISE,
        )
    )
    wrapper = constructor(model)
    return {g['param_name']: g for g in wrapper.optimizer.param_groups}


@pytest.mark.parametrize(
    'backbone, names',
    [
        (
            TINY_VIT,
            dict(
                cls='backbone.cls_token',
                pos='backbone.pos_embed',
                patch='backbone.patch_embed.projection.weight',
                block0='backbone.layers.0.attn.qkv.weight',
                block1='backbone.layers.1.ffn.layers.1.weight',
                fc_norm='backbone.ln2.weight',
            ),
        ),
        (
            TINY_EVAX,
            dict(
                cls='backbone.cls_token',
                pos='backbone.pos_embed',
                patch='backbone.patch_embed.proj.weight',
                block0='backbone.blocks.0.attn.qkv.weight',
                block1='backbone.blocks.1.mlp.fc2.weight',
                fc_norm='backbone.fc_norm.weight',
            ),
        ),
    ],
)
def test_layer_decay_matches_medical_mae_rule(backbone, names):
    groups = _groups(backbone)
    # depth 2 -> Medical MAE num_layers 3: embeddings 0.5^3, block i 0.5^(2-i)
    assert groups[names['cls']]['lr'] == pytest.approx(0.125)
    assert groups[names['pos']]['lr'] == pytest.approx(0.125)
    assert groups[names['patch']]['lr'] == pytest.approx(0.125)
    assert groups[names['block0']]['lr'] == pytest.approx(0.25)
    assert groups[names['block1']]['lr'] == pytest.approx(0.5)
    assert groups[names['fc_norm']]['lr'] == pytest.approx(1.0)
    assert groups['head.fc.weight']['lr'] == pytest.approx(1.0)
    # no weight decay on 1-D params, cls token and pos embed
    assert groups[names['cls']]['weight_decay'] == 0
    assert groups[names['pos']]['weight_decay'] == 0
    assert groups[names['fc_norm']]['weight_decay'] == 0
    assert groups['head.fc.bias']['weight_decay'] == 0
    assert groups[names['block0']]['weight_decay'] == pytest.approx(0.05)
