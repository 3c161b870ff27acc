"""MSMAE fine-tuning: the classifier trains on kept patches, predicts on all."""

import numpy as np
import pytest
import torch


@pytest.mark.parametrize('arch', ['tiny', 'small'])
def test_sam_classifier_trains_on_kept_patches_and_predicts_on_full(arch):
    from mmpretrain.registry import MODELS
    from mmpretrain.structures import DataSample

    model = MODELS.build(
        dict(
            type='MSMAEClassifier',
            mask_ratio=0.45,
            throw_ratio=0.3,
            backbone=dict(type='CXRViT', arch=arch, img_size=32, patch_size=8),
            head=dict(
                type='LinearClsHead',
                num_classes=2,
                in_channels=192 if arch == 'tiny' else 384,
            ),
        )
    )
    model.init_weights()
    inputs = torch.randn(2, 3, 32, 32)
    whole_image = np.array([0, 0, 1, 1], dtype=np.float32)
    samples = [
        DataSample(
            metainfo=dict(sample_idx=i, crop_box=whole_image, flip=False)
        ).set_gt_label(i)
        for i in range(2)
    ]
    with pytest.raises(KeyError, match='crop_box'):
        model.patch_weights([DataSample(metainfo=dict(sample_idx=0))])
    model.store_attention_maps(
        torch.arange(2), model.compute_attention_maps(inputs), num_samples=2
    )
    assert model.attention_maps.shape == (2, 4, 4)

    torch.manual_seed(0)
    loss = model.loss(inputs, samples)['loss']
    torch.manual_seed(0)
    weights = model.patch_weights(samples)
    from cxr_plugins.models.selfsup.attention_masking import KEPT, attention_mask_throw

    codes = attention_mask_throw(weights, 0.45, 0.3).codes
    assert (codes == KEPT).sum(1).tolist() == [4, 4]
    # Changing pixels outside the kept patches leaves the training loss alone...
    hidden = (codes != KEPT).reshape(2, 1, 4, 1, 4, 1).expand(2, 3, 4, 8, 4, 8)
    changed = inputs + 5.0 * hidden.reshape(2, 3, 32, 32)
    torch.manual_seed(0)
    torch.testing.assert_close(model.loss(changed, samples)['loss'], loss)
    # ...while prediction sees the full image.
    model.eval()
    full = model.predict(inputs, samples)[0].pred_score
    assert not torch.allclose(model.predict(changed, samples)[0].pred_score, full)
