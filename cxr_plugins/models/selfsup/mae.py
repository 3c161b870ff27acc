"""MAE on chest X-rays (Medical MAE).

Xiao et al., "Delving into Masked Autoencoders for Multi-Label Thorax Disease
Classification", WACV 2023 (https://arxiv.org/abs/2210.12843), which pretrains
He et al.'s MAE (https://arxiv.org/abs/2111.06377) on NIH + CheXpert (+ MIMIC).

The algorithm is mmpretrain's ``MAE`` with its ``MAEViT`` encoder,
``MAEPretrainDecoder`` and ``MAEPretrainHead`` (MSE on the masked patches only,
optional ``norm_pix``): the configs under ``configs/pretrain/mae`` are the
implementation. This subclass only adds :meth:`CXRMAE.reconstruct`, which
returns the mask and the reconstructed image for figures.
"""

from __future__ import annotations

import torch
from mmpretrain.models.selfsup import MAE
from mmpretrain.registry import MODELS

from cxr_plugins.models.selfsup.masking import patch_mask_to_pixels


@MODELS.register_module()
class CXRMAE(MAE):
    """mmpretrain ``MAE`` with a reconstruction method for figures.

    Training (``loss``) is exactly mmpretrain's ``MAE``.
    """

    @torch.no_grad()
    def reconstruct(self, inputs: torch.Tensor) -> dict[str, torch.Tensor]:
        """Mask, encode and decode a batch of normalised images.

        The masking uses the global torch RNG (``MAEViT.random_masking``), so
        call ``torch.manual_seed`` first for reproducible figures.

        Args:
            inputs: ``(B, C, H, W)`` images after the data preprocessor.

        Returns:
            See :func:`decode_reconstruction`.
        """
        latent, patch_mask, ids_restore = self.backbone(inputs)
        return decode_reconstruction(self, inputs, latent, patch_mask, ids_restore)


@torch.no_grad()
def decode_reconstruction(
    model: MAE,
    targets: torch.Tensor,
    latent: torch.Tensor,
    patch_mask: torch.Tensor,
    ids_restore: torch.Tensor,
) -> dict[str, torch.Tensor]:
    """Decode encoder output into a figure-ready reconstruction of ``targets``.

    Shared by :class:`CXRMAE` and MRM (whose decoder predicts the patches of
    a higher-resolution target than the encoder input).

    Args:
        model: An MAE-style model with ``neck`` (decoder), ``head`` and
            ``backbone.patch_resolution``.
        targets: ``(B, C, H, W)`` normalised images the decoder reconstructs.
        latent: Encoder output of the visible tokens.
        patch_mask: ``(B, L)`` patch mask, 1 = masked.
        ids_restore: Token order restoring indices.

    Returns:
        ``mask``: ``(B, 1, H, W)`` pixel mask (1 = masked);
        ``masked``: the targets with masked patches set to 0;
        ``reconstruction``: the decoder output, with ``norm_pix`` undone using
        each target patch's mean/std, and the visible patches pasted back from
        the targets (as the MAE paper shows it).
    """
    pred = model.neck(latent, ids_restore)
    if model.head.norm_pix:
        patches = model.head.patchify(targets)
        mean = patches.mean(dim=-1, keepdim=True)
        std = (patches.var(dim=-1, keepdim=True) + 1.0e-6) ** 0.5
        pred = pred * std + mean
    prediction = model.head.unpatchify(pred)
    grid = model.backbone.patch_resolution
    mask = patch_mask_to_pixels(patch_mask, grid, model.head.patch_size)
    return dict(
        mask=mask,
        masked=targets * (1 - mask),
        reconstruction=targets * (1 - mask) + prediction * mask,
    )
