"""Tiny forward + backward of CXRMAE, CNNMAE and EVAXMIM, and their losses."""

import pytest
import torch
from cxr_test_utils import TINY_VIT_ARCH
from mmengine.registry import init_default_scope
from mmpretrain.registry import MODELS

import cxr_plugins  # noqa: F401
from cxr_plugins.models.selfsup.cnn_mae import masked_image_mse
from cxr_plugins.models.selfsup.evax_mim import masked_cosine_loss


@pytest.fixture(autouse=True)
def _scope():
    init_default_scope('mmpretrain')


def tiny_mae(norm_pix=False):
    return MODELS.build(
        dict(
            type='CXRMAE',
            backbone=dict(
                type='MAEViT',
                arch=TINY_VIT_ARCH,
                img_size=32,
                patch_size=8,
                mask_ratio=0.75,
            ),
            neck=dict(
                type='MAEPretrainDecoder',
                num_patches=16,
                patch_size=8,
                in_chans=3,
                embed_dim=32,
                decoder_embed_dim=16,
                decoder_depth=1,
                decoder_num_heads=2,
            ),
            head=dict(
                type='MAEPretrainHead',
                norm_pix=norm_pix,
                patch_size=8,
                loss=dict(type='PixelReconstructionLoss', criterion='L2'),
            ),
        )
    )


@pytest.mark.parametrize('norm_pix', [False, True])
def test_cxr_mae_forward_backward_and_reconstruct(norm_pix):
    model = tiny_mae(norm_pix)
    model.init_weights()
    images = torch.randn(2, 3, 32, 32)
    loss = model(images, [], mode='loss')['loss']
    loss.backward()
    assert torch.isfinite(loss)
    assert model.backbone.patch_embed.projection.weight.grad.abs().sum() > 0
    out = model.reconstruct(images)
    assert out['mask'].shape == (2, 1, 32, 32)
    assert out['mask'].sum().item() == 2 * 12 * 64  # 12 of 16 patches masked
    visible = out['mask'].expand_as(images) == 0
    assert torch.equal(out['reconstruction'][visible], images[visible])


def test_cnn_mae_masked_loss_ignores_visible_pixels():
    target = torch.zeros(1, 3, 4, 4)
    mask = torch.zeros(1, 1, 4, 4)
    mask[..., :2, :] = 1
    prediction = torch.zeros(1, 3, 4, 4)
    prediction[..., 2:, :] = 5.0  # error on visible pixels only
    assert masked_image_mse(prediction, target, mask, 'masked') == 0
    assert masked_image_mse(prediction, target, mask, 'all') == pytest.approx(12.5)
    prediction[..., :2, :] = 2.0
    assert masked_image_mse(prediction, target, mask, 'masked') == pytest.approx(4.0)
    with pytest.raises(ValueError, match='loss_region'):
        masked_image_mse(prediction, target, mask, 'visible')


def test_cnn_mae_forward_backward():
    model = MODELS.build(
        dict(
            type='CNNMAE',
            encoder_name='densenet121',
            patch_size=8,
            loss_region='masked',
        )
    )
    images = torch.randn(2, 3, 32, 32)
    loss = model(images, [], mode='loss')['loss']
    loss.backward()
    assert torch.isfinite(loss)
    grad = model.backbone.encoder.features.conv0.weight.grad
    assert grad is not None and grad.abs().sum() > 0
    out = model.reconstruct(images, torch.Generator().manual_seed(0))
    assert out['mask'].sum().item() == 2 * 12 * 64
    # the encoder keys are torchvision DenseNet keys
    assert (
        'features.denseblock4.denselayer16.conv2.weight'
        in model.backbone.encoder.state_dict()
    )


def test_masked_cosine_loss():
    target = torch.randn(2, 4, 8)
    prediction = target.clone()
    mask = torch.tensor([[True, False, True, False], [False, False, True, True]])
    prediction[~mask] = -target[~mask]  # wrong only where not masked
    assert masked_cosine_loss(prediction, target, mask).item() == pytest.approx(
        0.0, abs=1e-6
    )
    prediction[mask] = -target[mask]
    assert masked_cosine_loss(prediction, target, mask).item() == pytest.approx(2.0)


def tiny_evax(teacher_checkpoint=None):
    teacher = dict(
        type='CXRViT',
        arch=dict(TINY_VIT_ARCH, embed_dims=48),
        img_size=32,
        patch_size=8,
        out_type='featmap',
        final_norm=True,
    )
    if teacher_checkpoint is not None:
        teacher['init_cfg'] = dict(type='CXRPretrained', checkpoint=teacher_checkpoint)
    return MODELS.build(
        dict(
            type='EVAXMIM',
            backbone=dict(
                type='CXRViT',
                arch=TINY_VIT_ARCH,
                img_size=32,
                patch_size=8,
                out_type='raw',
                final_norm=True,
            ),
            teacher=teacher,
            mask_ratio=0.5,
            min_block_patches=2,
        )
    )


def test_evax_mim_trains_student_and_freezes_teacher(tmp_path):
    from cxr_plugins.models.backbones.cxr_vit import CXRViT

    reference = CXRViT(
        arch=dict(TINY_VIT_ARCH, embed_dims=48),
        img_size=32,
        patch_size=8,
        out_type='featmap',
        final_norm=True,
    )
    checkpoint = tmp_path / 'teacher.pth'
    torch.save(dict(state_dict=reference.state_dict()), checkpoint)
    model = tiny_evax(str(checkpoint))
    model.init_weights()
    for key, value in reference.state_dict().items():
        assert torch.equal(model.teacher.state_dict()[key], value), key
    model.train()
    assert not model.teacher.training
    images = torch.randn(2, 3, 32, 32)
    loss = model(images, [], mode='loss')['loss']
    loss.backward()
    assert 0 <= loss.item() <= 2
    assert model.mask_token.grad.abs().sum() > 0
    assert model.backbone.layers[0].attn.qkv.weight.grad.abs().sum() > 0
    assert all(p.grad is None for p in model.teacher.parameters())
    assert model.projection.weight.shape == (48, 32)
    out = model.reconstruct(images, torch.Generator().manual_seed(0))
    assert out['mask'].sum().item() == 2 * 8 * 64
    assert out['similarity'].abs().max() <= 1 + 1e-5


def test_evax_mim_refuses_a_teacher_that_does_not_load(tmp_path):
    from cxr_plugins.engine.checkpoint import CheckpointMismatchError

    with pytest.raises(ValueError, match='CXRPretrained'):
        tiny_evax().init_weights()
    wrong = tmp_path / 'wrong.pth'
    torch.save(dict(state_dict={'foo.weight': torch.zeros(1)}), wrong)
    with pytest.raises(CheckpointMismatchError):
        tiny_evax(str(wrong)).init_weights()


def test_evax_mim_mask_tokens_replace_masked_patches():
    model = tiny_evax()
    model.eval()
    images = torch.randn(1, 3, 32, 32)
    mask = torch.zeros(1, 16, dtype=torch.bool)
    mask[0, :8] = True
    changed = images.clone()
    changed[..., :16, :] = torch.randn(1, 3, 16, 32)  # the masked top half
    with torch.no_grad():
        first = model.student_prediction(images, mask)
        second = model.student_prediction(changed, mask)
        unmasked = model.student_prediction(changed, torch.zeros_like(mask))
    assert torch.allclose(first, second, atol=1e-5)
    assert not torch.allclose(first, unmasked, atol=1e-3)


def test_evax_mim_with_an_evax_student(tmp_path):
    from cxr_plugins.models.backbones.cxr_vit import CXRViT

    teacher = CXRViT(
        arch=dict(TINY_VIT_ARCH, embed_dims=48),
        img_size=32,
        patch_size=8,
        out_type='featmap',
        final_norm=True,
    )
    checkpoint = tmp_path / 'teacher.pth'
    torch.save(dict(state_dict=teacher.state_dict()), checkpoint)
    model = MODELS.build(
        dict(
            type='EVAXMIM',
            backbone=dict(type='EVAX', arch='demo', img_size=32, patch_size=8),
            teacher=dict(
                type='CXRViT',
                arch=dict(TINY_VIT_ARCH, embed_dims=48),
                img_size=32,
                patch_size=8,
                out_type='featmap',
                final_norm=True,
                init_cfg=dict(type='CXRPretrained', checkpoint=str(checkpoint)),
            ),
            mask_ratio=0.5,
            min_block_patches=2,
        )
    )
    model.init_weights()
    images = torch.randn(1, 3, 32, 32)
    mask = torch.zeros(1, 16, dtype=torch.bool)
    mask[0, :8] = True
    changed = images.clone()
    changed[..., :16, :] = torch.randn(1, 3, 16, 32)  # only masked patches differ
    model.eval()
    with torch.no_grad():
        first = model.student_prediction(images, mask)
        second = model.student_prediction(changed, mask)
    torch.testing.assert_close(first, second)
    model.train()
    loss = model(torch.randn(2, 3, 32, 32), [], mode='loss')['loss']
    loss.backward()
    assert model.mask_token.grad.abs().sum() > 0
    assert all(
        p.grad is not None and p.grad.abs().sum() > 0
        for p in model.backbone.blocks[0].mlp.parameters()
    )
