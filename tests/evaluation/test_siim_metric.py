"""SIIMDice empty-mask rule, focal-loss CPU workaround, neck, layer decay."""

from __future__ import annotations

import pytest
import torch
from cxr_test_utils import TINY_VIT_ARCH
from mmengine.structures import PixelData
from mmseg.models.losses import FocalLoss
from mmseg.models.losses.focal_loss import py_sigmoid_focal_loss
from mmseg.structures import SegDataSample

import cxr_plugins.seg  # noqa: F401  (registration)
from cxr_plugins.evaluation.metrics.siim_dice import SIIMDice, per_image_dice
from cxr_plugins.models.losses.focal_loss import CXRFocalLoss
from cxr_plugins.models.necks.simple_feature_pyramid import SimpleFeaturePyramid

pytestmark = pytest.mark.usefixtures('mmseg_scope')


def _mask(*rows):
    return torch.tensor(rows, dtype=torch.long)


def test_per_image_dice_rule():
    empty = _mask([0, 0], [0, 0])
    one = _mask([1, 0], [0, 0])
    two = _mask([1, 1], [0, 0])
    assert per_image_dice(empty, empty) == 1.0
    assert per_image_dice(one, empty) == 0.0
    assert per_image_dice(empty, one) == 0.0
    assert per_image_dice(one, two) == pytest.approx(2 / 3)
    ignored = _mask([255, 0], [0, 0])
    assert per_image_dice(one, ignored) == 1.0  # prediction under ignore drops


def _sample(pred, gt, name):
    sample = SegDataSample(metainfo=dict(img_path=name))
    sample.pred_sem_seg = PixelData(data=pred[None])
    sample.gt_sem_seg = PixelData(data=gt[None])
    return sample.to_dict()


def test_siim_dice_averages_over_images_and_writes_csv(tmp_path):
    empty = _mask([0, 0], [0, 0])
    one = _mask([1, 0], [0, 0])
    two = _mask([1, 1], [0, 0])
    metric = SIIMDice(out_dir=str(tmp_path))
    metric.process(
        {},
        [
            _sample(empty, empty, 'a'),
            _sample(one, empty, 'b'),
            _sample(one, two, 'c'),
            _sample(two, two, 'd'),
        ],
    )
    result = metric.compute_metrics(metric.results)
    assert result['Dice'] == pytest.approx(100 * (1 + 0 + 2 / 3 + 1) / 4)
    assert result['Dice_negative'] == pytest.approx(50.0)
    assert result['Dice_positive'] == pytest.approx(100 * (2 / 3 + 1) / 2)
    assert (result['n_positive'], result['n_negative']) == (2, 2)
    lines = (tmp_path / 'per_image_dice.csv').read_text().splitlines()
    assert lines[0] == 'image,dice,gt_pixels,pred_pixels' and len(lines) == 5
    assert lines[2] == 'b,0.0,0,1'


def test_focal_loss_accepts_index_targets_on_cpu():
    torch.manual_seed(0)
    logits = torch.randn(2, 2, 4, 4)
    target = torch.randint(0, 2, (2, 4, 4))
    target[0, 0, 0] = 255
    with pytest.raises(Exception):  # noqa: B017  the upstream CPU bug
        FocalLoss(use_sigmoid=True)(logits, target)
    loss = CXRFocalLoss(use_sigmoid=True, loss_weight=2.0)(logits, target)
    one_hot = torch.nn.functional.one_hot(target.clamp(max=1), 2).float()
    valid = (target != 255).reshape(-1, 1).float()
    expected = 2.0 * py_sigmoid_focal_loss(
        logits.permute(0, 2, 3, 1).reshape(-1, 2),
        one_hot.reshape(-1, 2),
        valid_mask=valid,
    )
    assert loss.item() == pytest.approx(expected.item(), rel=1e-5)
    loss_one_channel = CXRFocalLoss(use_sigmoid=True)(logits[:, 1:], target)
    assert torch.isfinite(loss_one_channel)


def test_simple_feature_pyramid_scales():
    neck = SimpleFeaturePyramid(embed_dim=16)
    outputs = neck((torch.rand(2, 16, 8, 8), torch.rand(2, 16, 8, 8)))
    assert [o.shape[-1] for o in outputs] == [32, 16, 8, 4]
    assert all(o.shape[1] == 16 for o in outputs)
    with pytest.raises(KeyError, match='scale 3'):
        SimpleFeaturePyramid(embed_dim=16, rescales=(3,))


def test_layer_decay_constructor_scales_backbone_depth():
    from mmseg.registry import MODELS, OPTIM_WRAPPER_CONSTRUCTORS

    model = MODELS.build(
        dict(
            type='EncoderDecoder',
            backbone=dict(
                type='mmpretrain.CXRViT',
                arch=TINY_VIT_ARCH,
                img_size=32,
                patch_size=8,
                out_type='featmap',
                out_indices=(1,),
            ),
            decode_head=dict(
                type='FCNHead',
                in_channels=32,
                channels=8,
                num_convs=1,
                num_classes=2,
                in_index=0,
            ),
        )
    )
    constructor = OPTIM_WRAPPER_CONSTRUCTORS.build(
        dict(
            type='SegLayerDecayOptimWrapperConstructor',
            optim_wrapper_cfg=dict(
                type='OptimWrapper',
                optimizer=dict(type='AdamW', lr=1.0, weight_decay=0.05),
            ),
            paramwise_cfg=dict(layer_decay_rate=0.5),
        )
    )
    optimizer = constructor(model).optimizer
    scales = {group['param_name']: group['lr'] for group in optimizer.param_groups}
    # 2 layers -> depths 0..3: patch_embed 0.5^3, layer 1 0.5^1, head 1
    assert scales['backbone.patch_embed.projection.weight'] == pytest.approx(0.125)
    assert scales['backbone.layers.1.attn.qkv.weight'] == pytest.approx(0.5)
    assert scales['decode_head.conv_seg.weight'] == pytest.approx(1.0)
