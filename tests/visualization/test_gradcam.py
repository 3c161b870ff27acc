"""Grad-CAM on ViT and CNN classifiers, and the plotting helpers."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from mmpretrain.registry import MODELS

from cxr_plugins.visualization import compute_cams, overlay_cam, vit_tokens_to_map
from cxr_plugins.visualization.curves import (
    read_predictions_csv,
    read_scalars,
    roc_overview,
    training_curves,
)


def classifier(backbone: dict, in_channels: int, num_classes: int = 3):
    torch.manual_seed(0)
    model = MODELS.build(
        dict(
            type='ImageClassifier',
            backbone=backbone,
            head=dict(
                type='MultiLabelLinearClsHead',
                num_classes=num_classes,
                in_channels=in_channels,
            ),
            neck=dict(type='GlobalAveragePooling')
            if backbone['type'] == 'ResNet'
            else None,
        )
    )
    model.eval()
    return model


def test_tokens_become_a_row_major_grid():
    tokens = torch.arange(1 + 6 * 6, dtype=torch.float32)[None, :, None].repeat(2, 1, 4)
    grid = vit_tokens_to_map(tokens)
    assert grid.shape == (2, 4, 6, 6)
    assert grid[0, 0, 0, 0] == 1 and grid[0, 0, 0, 5] == 6 and grid[0, 0, 1, 0] == 7
    with pytest.raises(ValueError, match='square grid'):
        vit_tokens_to_map(tokens[:, :-1])


def manual_vit_gradcam(model, inputs: torch.Tensor, class_index: int) -> np.ndarray:
    """Grad-CAM written out with hooks: ReLU(sum_c mean(grad_c) * A_c), min-max."""
    store = {}
    layer = model.backbone.layers[-1].ln1
    handle = layer.register_forward_hook(
        lambda module, args, output: store.update(activation=output)
    )
    logits = model(inputs, mode='tensor')
    handle.remove()
    activation = store['activation']
    (gradient,) = torch.autograd.grad(logits[0, class_index], activation)
    activation, gradient = activation[0, 1:], gradient[0, 1:]  # drop cls
    weights = gradient.mean(dim=0)
    cam = F.relu((activation * weights).sum(dim=1)).reshape(4, 4)
    cam = (
        F.interpolate(
            cam[None, None],
            size=inputs.shape[-2:],
            mode='bilinear',
            align_corners=False,
        )[0, 0]
        .detach()
        .numpy()
    )
    cam = cam - cam.min()
    return cam / (cam.max() + 1e-7)


def test_vit_cam_equals_hand_written_gradcam_per_class():
    model = classifier(dict(type='CXRViT', arch='demo', img_size=32, patch_size=8), 128)
    inputs = torch.randn(1, 3, 32, 32)
    cams = compute_cams(model, inputs, [0, 2])
    assert cams.shape == (1, 2, 32, 32)
    for column, class_index in enumerate([0, 2]):
        expected = manual_vit_gradcam(model, inputs, class_index)
        # pytorch-grad-cam resizes with OpenCV; compare at patch resolution.
        np.testing.assert_allclose(
            cams[0, column][4::8, 4::8], expected[4::8, 4::8], atol=0.08
        )
    assert np.abs(cams[0, 0] - cams[0, 1]).max() > 0.1  # class-specific


def test_cnn_cam_has_input_size_and_overlay_is_rgb():
    model = classifier(dict(type='ResNet', depth=18), 512)
    inputs = torch.randn(2, 3, 64, 64)
    cams = compute_cams(model, inputs, [1])
    assert cams.shape == (2, 1, 64, 64)
    assert 0.0 <= cams.min() and cams.max() <= 1.0
    image = np.full((64, 64, 3), 128, dtype=np.uint8)
    overlay = overlay_cam(image, cams[0, 0])
    assert overlay.shape == (64, 64, 3) and overlay.dtype == np.uint8
    with pytest.raises(ValueError, match='differ in size'):
        overlay_cam(image, cams[0, 0][:32])


def test_roc_overview_from_predictions_csv(tmp_path):
    path = tmp_path / 'predictions.csv'
    path.write_text(
        'img_path,prob_A,prob_B,prob_C,gt_A,gt_B,gt_C\n'
        'x1,0.9,0.1,0.5,1,1,0\n'
        'x2,0.2,0.8,0.5,0,0,0\n'
        'x3,0.7,0.3,0.5,1,1,0\n'
    )
    names, scores, targets = read_predictions_csv(path)
    assert names == ['A', 'B', 'C'] and scores.shape == targets.shape == (3, 3)
    figure, aucs = roc_overview(scores, targets, names)
    assert aucs == {'A': 1.0, 'B': 0.0}  # C has one label value only
    figure.savefig(tmp_path / 'roc.png')
    bad = tmp_path / 'bad.csv'
    bad.write_text('img_path,prob_A\nx,0.5\n')
    with pytest.raises(KeyError, match='gt_A'):
        read_predictions_csv(bad)


def test_training_curves_from_scalars_json(tmp_path):
    records = [
        dict(lr=1e-3, loss=2.0 - i / 10, loss_cls=1.0, epoch=1, iter=i, step=i)
        for i in range(1, 6)
    ]
    records.append({'auc/mAUC': 61.5, 'step': 1})
    records.append({'auc/mAUC': 64.0, 'step': 2})
    path = tmp_path / 'scalars.json'
    path.write_text('\n'.join(json.dumps(record) for record in records) + '\n')
    scalars = read_scalars(path)
    steps, losses = scalars['train']['loss']
    np.testing.assert_allclose(steps, [1, 2, 3, 4, 5])
    np.testing.assert_allclose(losses, [1.9, 1.8, 1.7, 1.6, 1.5])
    np.testing.assert_allclose(scalars['val']['auc/mAUC'][1], [61.5, 64.0])
    figure = training_curves(scalars)
    assert [axis.get_title() for axis in figure.axes] == [
        'train/lr',
        'train/loss',
        'train/loss_cls',
        'val/auc/mAUC',
    ]
    with pytest.raises(KeyError, match='not logged'):
        training_curves(scalars, ['val/accuracy'])
    path.write_text('{"loss": 1}\n')
    with pytest.raises(ValueError, match='line 1: no "step"'):
        read_scalars(path)
