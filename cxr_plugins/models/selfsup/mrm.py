"""MRM: masked record modeling (masked image + masked report reconstruction).

Zhou et al., "Advancing Radiograph Representation Learning with Masked Record
Modeling", ICLR 2023 (https://arxiv.org/abs/2301.13155).

Image branch: an MAE ViT encodes the randomly masked (0.75) image resized to
``encoder_size`` (224); the decoder predicts the masked patches of the
*high-resolution* input (448, 32x32 patches, ``norm_pix_loss``). Report branch:
whole-word-masked report tokens (done in the data pipeline by
:class:`~cxr_plugins.datasets.MRMTokenizeReport`) go through a small BERT
(:class:`~.report_encoder.MRMReportEncoder`) whose token embeddings
receive the mean of the visible image tokens projected to the text width.
Loss = image MSE + MLM CE (1:1).

Built on mmpretrain's ``MAEViT`` / ``MAEPretrainDecoder`` / ``MAEPretrainHead``.
Where the released code (RL4M/MRM-pytorch) differs: its MLM cross-entropy runs
over all positions, padding and unmasked tokens included; here only masked
tokens count (:func:`~.report_encoder.masked_lm_loss`). It projects each
visible token then averages; a linear map commutes with the mean, so this
averages then projects (same result, cheaper).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from mmpretrain.models.selfsup import BaseSelfSupervisor, MAEViT
from mmpretrain.registry import MODELS
from mmpretrain.structures import DataSample
from torch import nn

from cxr_plugins.datasets.text_tokenizer import IGNORE_INDEX
from cxr_plugins.models.backbones.cxr_vit import CXRViT
from cxr_plugins.models.selfsup.mae import decode_reconstruction
from cxr_plugins.models.selfsup.report_encoder import masked_lm_loss


@MODELS.register_module()
class MRMViT(MAEViT):
    """mmpretrain ``MAEViT`` (random masking) accepting every ``CXRViT`` arch."""

    arch_zoo = CXRViT.arch_zoo


@MODELS.register_module()
class MRM(BaseSelfSupervisor):
    """Masked record modeling (https://arxiv.org/abs/2301.13155).

    Args:
        backbone: :class:`MRMViT` (or ``MAEViT``) config at ``encoder_size``.
        neck: ``MAEPretrainDecoder`` config; ``patch_size`` is the
            *high-resolution* patch (32 for 448 input).
        head: ``MAEPretrainHead`` config with the same high-resolution patch.
        text_encoder: :class:`~.report_encoder.MRMReportEncoder` config.
        encoder_size: Side the image is resized to for the encoder (224).
        **kwargs: Passed to ``BaseSelfSupervisor``.

    Data samples must carry ``masked_input_ids`` and ``mlm_labels`` (``(L,)``
    long tensors), packed via ``PackInputs(algorithm_keys=[...])``.
    """

    def __init__(
        self,
        backbone: dict,
        neck: dict,
        head: dict,
        text_encoder: dict,
        encoder_size: int = 224,
        **kwargs,
    ) -> None:
        super().__init__(backbone=backbone, neck=neck, head=head, **kwargs)
        self.text_encoder = MODELS.build(text_encoder)
        self.image_to_text = nn.Linear(
            self.backbone.embed_dims, self.text_encoder.word_embeddings.embedding_dim
        )
        self.encoder_size = encoder_size

    def extract_feat(self, inputs: torch.Tensor):
        """Full-image encoder features at ``encoder_size`` (no masking)."""
        return self.backbone(self.resize_for_encoder(inputs), mask=None)

    def resize_for_encoder(self, inputs: torch.Tensor) -> torch.Tensor:
        """Bicubic resize of the high-resolution batch to the encoder size."""
        if (
            inputs.shape[-1] == self.encoder_size
            and inputs.shape[-2] == self.encoder_size
        ):
            return inputs
        return F.interpolate(
            inputs,
            size=(self.encoder_size, self.encoder_size),
            mode='bicubic',
            align_corners=False,
        )

    @torch.no_grad()
    def reconstruct(self, inputs: torch.Tensor) -> dict[str, torch.Tensor]:
        """Image branch only: mask the low-res input, reconstruct the high-res one.

        Uses the global torch RNG for the mask (seed it for figures); returns
        the dict of :func:`~cxr_plugins.models.selfsup.mae.decode_reconstruction`.
        """
        latent, patch_mask, ids_restore = self.backbone(self.resize_for_encoder(inputs))
        return decode_reconstruction(self, inputs, latent, patch_mask, ids_restore)

    def loss(
        self, inputs: torch.Tensor, data_samples: list[DataSample], **kwargs
    ) -> dict[str, torch.Tensor]:
        """Masked image reconstruction (high-res target) + masked report CE."""
        latent, mask, ids_restore = self.backbone(self.resize_for_encoder(inputs))
        pred = self.neck(latent, ids_restore)
        loss_image = self.head.loss(pred, inputs, mask)
        image_feature = self.image_to_text(latent[:, 1:].mean(dim=1))
        input_ids = torch.stack([s.masked_input_ids for s in data_samples]).to(
            inputs.device
        )
        labels = torch.stack([s.mlm_labels for s in data_samples]).to(inputs.device)
        hidden = self.text_encoder(input_ids, image_feature)
        # Only masked positions enter the loss: project just those to the vocab.
        is_masked = labels != IGNORE_INDEX
        logits = self.text_encoder.mlm_logits(hidden[is_masked])
        return dict(
            loss_image=loss_image, loss_report=masked_lm_loss(logits, labels[is_masked])
        )
