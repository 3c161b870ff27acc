"""segmentation_models_pytorch encoder-decoders as mmseg backbones.

Lets an mmseg config train smp's U-Net / FPN / ... (Iakubovskii,
https://github.com/qubvel-org/segmentation_models.pytorch) with any smp or timm
encoder, using mmseg's losses, metrics and runner: the backbone returns the smp
decoder's feature map and a plain decode head (e.g. ``FCNHead`` with
``num_convs=0``) does the final 1x1 classification. U-Net: Ronneberger et al.,
https://arxiv.org/abs/1505.04597.
"""

from __future__ import annotations

import segmentation_models_pytorch as smp
import torch
from mmengine.model import BaseModule
from mmseg.registry import MODELS


@MODELS.register_module()
class SMPBackbone(BaseModule):
    """smp encoder + decoder; smp's own segmentation head is left out.

    Args:
        arch: smp architecture name (``'Unet'``, ``'FPN'``, ``'UnetPlusPlus'``...).
        encoder_name: smp encoder (``'resnet50'``, ``'densenet121'``) or a timm
            encoder as ``'tu-<timm name>'``.
        encoder_weights: Always ``None`` here unless weights are on disk:
            nothing may be downloaded at run time. Use ``init_cfg`` with
            ``type='Pretrained'`` (prefix ``'backbone.model.encoder.'`` keys) to
            load local weights.
        in_channels: Image channels.
        init_cfg: See ``BaseModule``.
        **smp_kwargs: Passed to ``smp.create_model`` (``encoder_depth``,
            ``decoder_channels`` ...).

    Attributes:
        out_channels: Channels of the decoder output (the decode head's input).
    """

    def __init__(
        self,
        arch: str = 'Unet',
        encoder_name: str = 'resnet50',
        encoder_weights: str | None = None,
        in_channels: int = 3,
        init_cfg: dict | None = None,
        **smp_kwargs,
    ) -> None:
        super().__init__(init_cfg=init_cfg)
        self.model = smp.create_model(
            arch,
            encoder_name=encoder_name,
            encoder_weights=encoder_weights,
            in_channels=in_channels,
            classes=1,
            **smp_kwargs,
        )
        self.out_channels = self.model.segmentation_head[0].in_channels
        del self.model.segmentation_head

    def forward(self, inputs: torch.Tensor) -> tuple[torch.Tensor]:
        """Return ``(decoder feature map,)``; H and W must suit the encoder."""
        features = self.model.encoder(inputs)
        return (self.model.decoder(features),)
