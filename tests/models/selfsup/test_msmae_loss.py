"""MSMAE's decoder, reconstruction loss and classification loss on fixed splits."""

import torch
import torch.nn.functional as F
from cxr_test_utils import TINY_VIT_ARCH
from mmengine.config import Config
from mmpretrain.registry import MODELS
from mmpretrain.structures import DataSample

import cxr_plugins  # noqa: F401
from cxr_plugins.models.selfsup.attention_masking import (
    MASKED,
    THROWN,
    attention_mask_throw,
)
from cxr_plugins.models.selfsup.msmae import classification_loss

CONFIG = (
    'configs/pretrain/msmae/msmae_vit-demo-p8_dec128d2b_1xb32-30e_nih14-demo-64px.py'
)
TINY_ARCH = dict(TINY_VIT_ARCH, embed_dims=64, num_heads=4, feedforward_channels=128)


def _tiny_model(repo_root):
    cfg = Config.fromfile(str(repo_root / CONFIG))
    cfg.model.backbone.update(arch=TINY_ARCH, img_size=32, patch_size=8)
    cfg.model.neck.update(
        num_patches=16,
        patch_size=8,
        embed_dim=64,
        decoder_embed_dim=32,
        decoder_depth=1,
        decoder_num_heads=4,
    )
    cfg.model.head.patch_size = 8
    model = MODELS.build(cfg.model)
    model.init_weights()
    return model.eval()


def test_decoder_drops_thrown_and_loss_covers_masked_only(repo_root):
    model = _tiny_model(repo_root)
    torch.manual_seed(0)
    inputs = torch.randn(2, 3, 32, 32)
    split = attention_mask_throw(torch.rand(2, 16) + 0.1, 0.45, 0.3)
    latent = model.backbone(inputs, split)
    pred, ids_decoded = model.neck(latent, split)

    for row in range(2):
        expected = torch.nonzero(split.codes[row] != THROWN).flatten()
        assert torch.equal(ids_decoded[row], expected)
    assert pred.shape == (2, ids_decoded.shape[1], 8 * 8 * 3)

    masked = torch.gather(split.codes, 1, ids_decoded) == MASKED
    loss = model.head.loss(pred, inputs, ids_decoded, masked)
    at_kept = pred.clone()
    at_kept[~masked] += 5.0
    assert torch.allclose(model.head.loss(at_kept, inputs, ids_decoded, masked), loss)
    at_masked = pred.clone()
    at_masked[masked] += 5.0
    assert model.head.loss(at_masked, inputs, ids_decoded, masked) > loss + 1.0


def test_classification_loss_is_cross_entropy_on_raw_logits():
    logits = torch.randn(3, 4)
    samples = [DataSample().set_gt_label(label) for label in (0, 3, 1)]
    torch.testing.assert_close(
        classification_loss(logits, samples),
        F.cross_entropy(logits, torch.tensor([0, 3, 1])),
    )
    multi = [DataSample().set_gt_score(torch.tensor([1.0, -1.0, 0.0, 1.0]))] * 3
    known = torch.tensor([True, False, True, True])
    torch.testing.assert_close(
        classification_loss(logits, multi),
        F.binary_cross_entropy_with_logits(
            logits[:, known], torch.tensor([1.0, 0.0, 1.0]).expand(3, 3)
        ),
    )
