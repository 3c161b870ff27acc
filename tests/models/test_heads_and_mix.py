"""Ignore-aware BCE, label smoothing and multi-hot Mixup / CutMix."""

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from mmpretrain.registry import BATCH_AUGMENTS, MODELS
from mmpretrain.structures import DataSample

import cxr_plugins  # noqa: F401  (registration)
from cxr_plugins.models.losses import masked_bce_with_logits
from cxr_plugins.models.utils import mix_multi_hot


def test_masked_bce_equals_bce_on_valid_entries():
    torch.manual_seed(0)
    logits = torch.randn(6, 5, requires_grad=True)
    target = torch.randint(0, 2, (6, 5)).float()
    target[0, 1] = target[3, 4] = -1
    loss = masked_bce_with_logits(logits, target)
    valid = target != -1
    expected = F.binary_cross_entropy_with_logits(logits[valid], target[valid])
    torch.testing.assert_close(loss, expected)
    loss.backward()
    assert logits.grad[0, 1] == 0 and logits.grad[3, 4] == 0
    assert logits.grad[valid].abs().min() > 0


def test_masked_bce_label_smoothing_and_all_ignored():
    logits = torch.zeros(2, 2)
    target = torch.tensor([[1.0, 0.0], [1.0, 0.0]])
    smoothed = masked_bce_with_logits(logits, target, label_smoothing=0.2)
    expected = F.binary_cross_entropy_with_logits(
        logits, torch.tensor([[0.9, 0.1], [0.9, 0.1]])
    )
    torch.testing.assert_close(smoothed, expected)
    assert masked_bce_with_logits(logits, torch.full((2, 2), -1.0)) == 0
    with pytest.raises(ValueError, match='same shape'):
        masked_bce_with_logits(logits, torch.zeros(2, 3))


def test_multilabel_head_uses_gt_score_with_ignore():
    head = MODELS.build(
        dict(
            type='MultiLabelLinearClsHead',
            num_classes=3,
            in_channels=4,
            loss=dict(type='CXRMaskedBCELoss'),
        )
    )
    feats = (torch.randn(2, 4),)
    samples = [
        DataSample().set_gt_score(torch.tensor([1.0, -1.0, 0.0])),
        DataSample().set_gt_score(torch.tensor([0.0, 1.0, -1.0])),
    ]
    loss = head.loss(feats, samples)['loss']
    logits = head(feats)
    target = torch.stack([s.gt_score for s in samples])
    torch.testing.assert_close(loss, masked_bce_with_logits(logits, target))


def test_mix_multi_hot_keeps_ignore_and_mixes_linearly():
    scores = torch.tensor([[1.0, 0.0, -1.0], [0.0, 1.0, 1.0]])
    mixed = mix_multi_hot(scores, torch.tensor([1, 0]), lam=0.7)
    expected = torch.tensor([[0.7, 0.3, -1.0], [0.3, 0.7, -1.0]])
    torch.testing.assert_close(mixed, expected)


@pytest.mark.parametrize('aug', ['CXRMultiLabelMixup', 'CXRMultiLabelCutMix'])
def test_batch_augments_on_multi_hot(aug):
    np.random.seed(0)
    torch.manual_seed(0)
    augment = BATCH_AUGMENTS.build(dict(type=aug, alpha=1.0))
    inputs = torch.rand(8, 3, 16, 16)
    scores = torch.randint(0, 2, (8, 5)).float()
    scores[2, 3] = -1
    _, mixed = augment(inputs.clone(), scores)
    valid = mixed != -1
    assert ((mixed[valid] >= 0) & (mixed[valid] <= 1)).all()
    assert mixed[2, 3] == -1
