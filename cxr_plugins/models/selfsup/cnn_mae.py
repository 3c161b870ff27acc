"""CNN-MAE: masked image reconstruction with a DenseNet-121 U-Net (Medical MAE).

Xiao et al., "Delving into Masked Autoencoders for Multi-Label Thorax Disease
Classification", WACV 2023 (https://arxiv.org/abs/2210.12843), Sec. 3: a CNN
cannot drop tokens, so 16x16 patches of the (normalised) image are set to 0 and
an ``smp.Unet(encoder_name='densenet121')`` reconstructs the whole image. After
pretraining only the encoder is kept; its keys (``backbone.encoder.features.*``)
are torchvision's DenseNet keys (``tools/export_backbone.py`` strips the prefix).

Loss region: the paper describes the MAE loss on masked patches, which is the
default here (``loss_region='masked'``). The released seed
(``models_mae_cnn.py``) computes the MSE over **all** pixels (its masked-only
line is commented out); ``loss_region='all'`` reproduces that.
"""

from __future__ import annotations

import torch
from mmengine.model import BaseModel
from mmpretrain.registry import MODELS
from mmpretrain.structures import DataSample
from torch import nn

from cxr_plugins.models.selfsup.masking import patch_zero_masking

LOSS_REGIONS = ('masked', 'all')


def masked_image_mse(
    prediction: torch.Tensor,
    target: torch.Tensor,
    pixel_mask: torch.Tensor,
    loss_region: str = 'masked',
) -> torch.Tensor:
    """Mean squared error over the masked pixels or over all pixels.

    Args:
        prediction: ``(B, C, H, W)`` reconstruction.
        target: ``(B, C, H, W)`` original (normalised) image.
        pixel_mask: ``(B, 1, H, W)`` mask, 1 = masked.
        loss_region: ``'masked'`` (paper) or ``'all'`` (released seed).

    Returns:
        Scalar loss.
    """
    squared_error = (prediction - target) ** 2
    if loss_region == 'all':
        return squared_error.mean()
    if loss_region != 'masked':
        raise ValueError(
            f'loss_region must be one of {LOSS_REGIONS}, got {loss_region!r}'
        )
    masked_values = pixel_mask.sum() * prediction.shape[1]
    return (squared_error * pixel_mask).sum() / masked_values.clamp(min=1)


@MODELS.register_module()
class CNNMAE(BaseModel):
    """U-Net that reconstructs chest X-rays whose patches were zeroed.

    Args:
        encoder_name: smp encoder (``'densenet121'`` in Medical MAE); always built
            without downloaded weights.
        in_channels: Image channels (3: X-rays are loaded as RGB, as the seed does).
        mask_ratio: Fraction of patches zeroed per image (0.75 in the seed).
        patch_size: Side of a masked square in pixels (16).
        loss_region: ``'masked'`` (paper, default) or ``'all'`` (seed code).
        data_preprocessor: Config of the preprocessor; defaults to mmpretrain's
            ``SelfSupDataPreprocessor``.
        init_cfg: Initialisation config.

    Example:
        >>> model = CNNMAE(encoder_name='resnet18', patch_size=8)
        >>> model.loss(torch.rand(2, 3, 64, 64), [])['loss'].shape
        torch.Size([])
    """

    def __init__(
        self,
        encoder_name: str = 'densenet121',
        in_channels: int = 3,
        mask_ratio: float = 0.75,
        patch_size: int = 16,
        loss_region: str = 'masked',
        data_preprocessor: dict | None = None,
        init_cfg: dict | None = None,
    ) -> None:
        if loss_region not in LOSS_REGIONS:
            raise ValueError(
                f'loss_region must be one of {LOSS_REGIONS}, got {loss_region!r}'
            )
        preprocessor_cfg = dict(type='SelfSupDataPreprocessor')
        preprocessor_cfg.update(data_preprocessor or {})
        super().__init__(
            data_preprocessor=MODELS.build(preprocessor_cfg), init_cfg=init_cfg
        )
        import segmentation_models_pytorch as smp  # optional [seg] extra

        self.backbone: nn.Module = smp.Unet(
            encoder_name=encoder_name,
            encoder_weights=None,
            in_channels=in_channels,
            classes=in_channels,
        )
        self.mask_ratio = mask_ratio
        self.patch_size = patch_size
        self.loss_region = loss_region

    def forward(
        self,
        inputs: torch.Tensor,
        data_samples: list[DataSample] | None = None,
        mode: str = 'tensor',
    ):
        """``mode='loss'`` returns the loss dict, ``'tensor'`` the encoder features."""
        if mode == 'loss':
            return self.loss(inputs, data_samples)
        if mode == 'tensor':
            return self.extract_feat(inputs)
        raise RuntimeError(f'CNNMAE supports modes "loss" and "tensor", got {mode!r}')

    def extract_feat(self, inputs: torch.Tensor) -> list[torch.Tensor]:
        """Multi-scale features of the U-Net encoder on unmasked images."""
        return self.backbone.encoder(inputs)

    def loss(
        self, inputs: torch.Tensor, data_samples: list[DataSample] | None = None
    ) -> dict[str, torch.Tensor]:
        """Zero patches, reconstruct, and compute the MSE loss."""
        masked, pixel_mask = patch_zero_masking(
            inputs, self.patch_size, self.mask_ratio
        )
        prediction = self.backbone(masked)
        return dict(
            loss=masked_image_mse(prediction, inputs, pixel_mask, self.loss_region)
        )

    @torch.no_grad()
    def reconstruct(
        self, inputs: torch.Tensor, generator: torch.Generator | None = None
    ) -> dict[str, torch.Tensor]:
        """Masked input, pixel mask and reconstruction, for figures.

        Args:
            inputs: ``(B, C, H, W)`` images after the data preprocessor.
            generator: Optional seeded generator for the mask.

        Returns:
            ``mask`` (1 = masked), ``masked`` and ``reconstruction`` (the U-Net
            output with the visible pixels pasted back from the input).
        """
        masked, pixel_mask = patch_zero_masking(
            inputs, self.patch_size, self.mask_ratio, generator
        )
        prediction = self.backbone(masked)
        return dict(
            mask=pixel_mask,
            masked=masked,
            reconstruction=masked + prediction * pixel_mask,
        )
