"""The stack shims of cxr_plugins.compat: mmcv ops, checkpoint safety, versions."""

import argparse
import os
import pickle
import subprocess
import sys

import pytest
import torch
import torchvision

import cxr_plugins  # noqa: F401
from cxr_plugins import compat


def test_mmseg_and_mmpretrain_models_import_on_mmcv_lite():
    code = 'import cxr_plugins, mmseg.models, mmpretrain.models; print("ok")'
    result = subprocess.run(
        [sys.executable, '-c', code], capture_output=True, text=True, timeout=300
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().endswith('ok')


@pytest.mark.parametrize('reduction', ['none', 'mean', 'sum'])
def test_sigmoid_focal_loss_matches_torchvision(reduction):
    generator = torch.Generator().manual_seed(0)
    logits = torch.randn(37, 5, generator=generator)
    # class index 5 == num_classes means "background": all-negative row.
    target = torch.randint(0, 6, (37,), generator=generator)
    one_hot = torch.nn.functional.one_hot(target, 6)[:, :5].float()
    expected = torchvision.ops.sigmoid_focal_loss(
        logits, one_hot, alpha=0.25, gamma=2.0, reduction='none'
    )
    loss = compat.sigmoid_focal_loss(logits, target, 2.0, 0.25, None, reduction)
    if reduction == 'mean':
        expected = expected.sum() / logits.size(0)
    elif reduction == 'sum':
        expected = expected.sum()
    torch.testing.assert_close(loss, expected)


def test_sigmoid_focal_loss_weight_follows_the_sample_class():
    logits = torch.randn(6, 3)
    target = torch.tensor([0, 1, 2, 0, 1, 2])
    weight = torch.tensor([1.0, 2.0, 5.0])
    plain = compat.sigmoid_focal_loss(logits, target, reduction='none')
    weighted = compat.sigmoid_focal_loss(
        logits, target, weight=weight, reduction='none'
    )
    torch.testing.assert_close(weighted, plain * weight[target].unsqueeze(1))


def test_mmseg_focal_loss_gpu_path_computes_with_fallback():
    """mmseg routes CUDA tensors to mmcv.ops.sigmoid_focal_loss: ours must compute."""
    from mmseg.models.losses import focal_loss

    assert focal_loss._sigmoid_focal_loss is compat.sigmoid_focal_loss
    logits = torch.randn(16, 3, requires_grad=True)
    target = torch.randint(0, 3, (16,))
    loss = focal_loss.sigmoid_focal_loss(
        logits,
        target,
        one_hot_target=None,
        gamma=2.0,
        alpha=0.5,
        class_weight=None,
        reduction='mean',
    )
    reference = focal_loss.py_sigmoid_focal_loss(
        logits,
        torch.nn.functional.one_hot(target, 3).float(),
        gamma=2.0,
        alpha=0.5,
        reduction='mean',
    )
    torch.testing.assert_close(loss, reference)
    loss.backward()
    assert torch.isfinite(logits.grad).all()


def test_point_sample_available_and_other_ops_named_in_error():
    import mmcv.ops

    features = torch.arange(16.0).view(1, 1, 4, 4)
    centre_of_pixel_5 = torch.tensor([[[1.5 / 4, 1.5 / 4]]])
    sampled = mmcv.ops.point_sample(features, centre_of_pixel_5, align_corners=False)
    assert sampled.item() == pytest.approx(5.0)
    with pytest.raises(ModuleNotFoundError, match='nms'):
        mmcv.ops.nms  # noqa: B018


class _Exploit:
    def __init__(self, marker: str) -> None:
        self.marker = marker

    def __reduce__(self):
        return (os.mkdir, (self.marker,))


def test_checkpoint_that_executes_code_is_refused(tmp_path):
    marker = tmp_path / 'pwned'
    path = tmp_path / 'evil.pth'
    with open(path, 'wb') as file:
        pickle.dump({'state_dict': {}, 'x': _Exploit(str(marker))}, file)
    with pytest.raises(compat.UnsafeCheckpointError, match='unsafe-load'):
        compat.load_checkpoint_file(path)
    assert not marker.exists()


def test_legacy_pickle_needs_explicit_opt_in(tmp_path, monkeypatch):
    monkeypatch.delenv(compat.UNSAFE_LOAD_ENV, raising=False)
    path = tmp_path / 'legacy.pth'
    weights = {'w': torch.ones(2)}
    torch.save({'model': weights, 'args': argparse.Namespace(lr=1.0)}, path)
    with pytest.raises(compat.UnsafeCheckpointError, match=str(path)):
        compat.load_checkpoint_file(path)
    compat.allow_unsafe_load()
    try:
        loaded = compat.load_checkpoint_file(path)
    finally:
        compat.allow_unsafe_load(False)
    assert loaded['args'].lr == 1.0
    torch.testing.assert_close(loaded['model']['w'], weights['w'])


def test_mmengine_load_checkpoint_uses_safe_loader(tmp_path):
    from mmengine.runner import load_checkpoint
    from safetensors.torch import save_file

    model = torch.nn.Linear(3, 2)
    save_file(model.state_dict(), tmp_path / 'weights.safetensors')
    other = torch.nn.Linear(3, 2)
    load_checkpoint(other, str(tmp_path / 'weights.safetensors'), strict=True)
    torch.testing.assert_close(other.weight, model.weight)

    with open(tmp_path / 'evil.pth', 'wb') as file:
        pickle.dump({'state_dict': _Exploit(str(tmp_path / 'pwned'))}, file)
    with pytest.raises(compat.UnsafeCheckpointError):
        load_checkpoint(other, str(tmp_path / 'evil.pth'))


def test_version_mismatch_warns_not_raises(monkeypatch):
    monkeypatch.setitem(compat.TESTED_VERSIONS, 'torch', '0.0.1')
    with pytest.warns(UserWarning, match='torch==0.0.1'):
        messages = compat.check_versions()
    assert any('torch' in message for message in messages)
