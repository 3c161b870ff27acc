"""MSMAE: supervised attention-driven masking and throwing for MAE pretraining.

Mao et al., "Masked Self-supervised Masked Autoencoder for medical images"
(https://arxiv.org/abs/2305.05871). The encoder's last-block CLS->patch
attention, computed once per training image on a deterministic resize and
refreshed on a schedule (:class:`~cxr_plugins.engine.hooks.MSMAEAttentionHook`),
drives per-sample multinomial sampling of patches into *masked* (reconstructed),
*thrown* (neither encoded nor reconstructed) and *kept* (encoded) sets. The loss
is the masked-patch MSE plus ``cls_loss_weight`` x cross-entropy of a linear
classifier on the encoder's CLS token. :class:`MSMAEClassifier` applies the same
attention-driven selection in fine-tuning (train on kept patches, evaluate on
the full image).

Built on mmpretrain's ``MAEViT`` / ``MAEPretrainDecoder`` / ``MAEPretrainHead``.
Where the released code (Talented-Q/MSMAE) differs:

- it applies ``nn.CrossEntropyLoss`` to *softmax* outputs (a double softmax);
  here the CE takes logits;
- its attention map follows the crop incorrectly (it slices the top-left cells
  of the map); here the stored full-image patch-grid map is resampled inside
  the sample's recorded crop box and flipped with it
  (:func:`~cxr_plugins.models.selfsup.attention_masking.crop_flip_patch_maps`);
- it supports ViT-B/16 only (12 heads and 196 patches hard-coded); here any
  arch and grid work;
- it refreshes the maps *after* epochs 40, 80, ...; here the hook refreshes
  them *before* epochs ``warmup``, ``warmup + interval``, ... (the same maps
  one epoch earlier).
"""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F
from mmpretrain.models.backbones import VisionTransformer
from mmpretrain.models.classifiers import ImageClassifier
from mmpretrain.models.heads import MAEPretrainHead
from mmpretrain.models.necks import MAEPretrainDecoder
from mmpretrain.models.selfsup import BaseSelfSupervisor, MAEViT
from mmpretrain.registry import MODELS
from mmpretrain.structures import DataSample
from torch import nn

from cxr_plugins.models.backbones.cxr_vit import CXRViT
from cxr_plugins.models.losses.masked_bce_loss import masked_bce_with_logits
from cxr_plugins.models.selfsup.attention_masking import (
    MASKED,
    MaskThrowSplit,
    attention_mask_throw,
    cls_patch_attention,
    crop_flip_patch_maps,
    normalize_head_attention,
)
from cxr_plugins.models.utils.token_embedding import embed_vit_tokens, gather_tokens


@torch.no_grad()
def vit_cls_attention_maps(vit: VisionTransformer, x: torch.Tensor) -> torch.Tensor:
    """Last-block CLS->patch attention of a ViT, head-normalised, ``(B, h, w)``."""
    tokens = embed_vit_tokens(vit, x)[0]
    for layer in vit.layers[:-1]:
        tokens = layer(tokens)
    last = vit.layers[-1]
    attention = cls_patch_attention(
        last.ln1(tokens), last.attn.qkv, last.attn.num_heads, num_extra_tokens=1
    )
    return normalize_head_attention(attention).reshape(-1, *vit.patch_resolution)


@MODELS.register_module()
class MSMAEViT(MAEViT):
    """MAE encoder that encodes only the *kept* patches of an MSMAE split.

    Accepts every arch of :class:`~cxr_plugins.models.backbones.CXRViT`
    (``'demo'``, ``'tiny'``, ``'small'``, ``'base'``, ... or a dict); keys are
    mmpretrain ``MAEViT`` keys, so the encoder exports to ``CXRViT``.
    """

    arch_zoo = CXRViT.arch_zoo

    @property
    def patch_grid(self) -> tuple[int, int]:
        """``(h, w)`` patch grid at the configured image size."""
        return tuple(self.patch_resolution)

    def forward(self, x: torch.Tensor, split: MaskThrowSplit | None = None):
        """Encode CLS + kept patches, or the whole image when ``split`` is None.

        Args:
            x: Images ``(B, 3, H, W)``.
            split: Which patches to keep; None runs the plain ViT forward.

        Returns:
            The final-normed tokens ``(B, 1 + n_kept, C)`` with a split, else
            the ``VisionTransformer`` outputs.
        """
        if split is None:
            return super().forward(x, mask=None)
        tokens = embed_vit_tokens(self, x, split.ids_kept)[0]
        for layer in self.layers:
            tokens = layer(tokens)
        return self.norm1(tokens)

    def cls_attention_maps(self, x: torch.Tensor) -> torch.Tensor:
        """Last-block CLS->patch attention, head-normalised, ``(B, h, w)``."""
        return vit_cls_attention_maps(self, x)


@MODELS.register_module()
class MSMAEPretrainDecoder(MAEPretrainDecoder):
    """MAE decoder that drops the thrown tokens before its blocks.

    Masked and thrown positions get ``mask_token``, every position gets the
    decoder position embedding, then thrown positions are removed (as in the
    released code) and the rest are decoded in raster order.
    """

    def forward(self, latent: torch.Tensor, split: MaskThrowSplit) -> tuple:
        """Decode.

        Args:
            latent: Encoder output ``(B, 1 + n_kept, C)``.
            split: The masking/throwing split used by the encoder.

        Returns:
            ``(pred, ids_decoded)``: predictions ``(B, n_masked + n_kept, D)``
            for the patch indices ``ids_decoded`` (sorted, per sample).
        """
        latent = self.decoder_embed(latent)
        batch, _, dims = latent.shape
        length = split.codes.shape[1]
        full = self.mask_token.expand(batch, length, dims).clone()
        full = full.scatter(
            1, split.ids_kept.unsqueeze(-1).expand(-1, -1, dims), latent[:, 1:]
        )
        full = full + self.decoder_pos_embed[:, 1:, :]
        ids_decoded = torch.cat([split.ids_masked, split.ids_kept], dim=1).sort(dim=1)[
            0
        ]
        tokens = gather_tokens(full, ids_decoded)
        cls_token = latent[:, :1] + self.decoder_pos_embed[:, :1, :]
        tokens = torch.cat((cls_token, tokens), dim=1)
        for block in self.decoder_blocks:
            tokens = block(tokens)
        pred = self.decoder_pred(self.decoder_norm(tokens))[:, 1:]
        return pred, ids_decoded


@MODELS.register_module()
class MSMAEPretrainHead(MAEPretrainHead):
    """MAE pixel head whose predictions cover only the decoded patches."""

    def loss(
        self,
        pred: torch.Tensor,
        target: torch.Tensor,
        ids_decoded: torch.Tensor,
        masked: torch.Tensor,
    ) -> torch.Tensor:
        """Masked-patch reconstruction loss.

        Args:
            pred: ``(B, K, p*p*C)`` predictions for ``ids_decoded``.
            target: Images ``(B, C, H, W)``.
            ids_decoded: ``(B, K)`` patch indices of ``pred``.
            masked: ``(B, K)`` 1 where the patch was masked, else 0.
        """
        target = gather_tokens(self.construct_target(target), ids_decoded)
        return self.loss_module(pred, target, masked.float())


class AttentionMapStore:
    """Per-training-image attention maps in a persistent buffer.

    ``attention_maps`` is ``(num_train_images, h, w)``, indexed by the data
    samples' ``sample_idx``; empty until :class:`MSMAEAttentionHook` fills it.
    It is part of ``state_dict``, so checkpoints save and resume restores it.
    """

    def init_attention_maps(self, grid: tuple[int, int]) -> None:
        """Register the (empty) buffer for a ``grid`` of patches."""
        self.register_buffer('attention_maps', torch.zeros(0, *grid), persistent=True)

    @property
    def has_attention_maps(self) -> bool:
        """True once the hook has stored maps for the training set."""
        return self.attention_maps.shape[0] > 0

    def _load_from_state_dict(self, state_dict, prefix, *args, **kwargs) -> None:
        # The buffer's length is the training-set size, unknown at build time.
        stored = state_dict.get(prefix + 'attention_maps')
        if stored is not None and stored.shape != self.attention_maps.shape:
            self.attention_maps = torch.zeros_like(
                stored, device=self.attention_maps.device
            )
        super()._load_from_state_dict(state_dict, prefix, *args, **kwargs)

    @torch.no_grad()
    def store_attention_maps(
        self, sample_indices: torch.Tensor, maps: torch.Tensor, num_samples: int
    ) -> None:
        """Write maps for the given training-sample indices.

        Args:
            sample_indices: ``(B,)`` dataset indices.
            maps: ``(B, h, w)`` maps.
            num_samples: Training-set size (allocates the buffer on first use).
        """
        if self.attention_maps.shape[0] != num_samples:
            self.attention_maps = maps.new_ones(num_samples, *maps.shape[1:])
        self.attention_maps[sample_indices.to(self.attention_maps.device)] = maps

    def patch_weights(self, data_samples: list[DataSample]) -> torch.Tensor:
        """Stored maps of the batch, cropped and flipped like the images, ``(B, L)``."""
        for sample in data_samples:
            if 'crop_box' not in sample or 'flip' not in sample:
                raise KeyError(
                    'MSMAE: a data sample has no crop_box/flip, so its attention '
                    'map cannot follow the augmentation; use '
                    'MSMAERandomResizedCrop and add crop_box and flip to '
                    'PackInputs.meta_keys'
                )
            if sample.flip and sample.get('flip_direction', 'horizontal') != (
                'horizontal'
            ):
                raise ValueError(
                    'MSMAE: only horizontal flips are followed by the attention '
                    f'map, got {sample.flip_direction!r}'
                )
        indices = torch.tensor([s.sample_idx for s in data_samples])
        maps = self.attention_maps[indices.to(self.attention_maps.device)]
        boxes = torch.tensor(np.stack([s.crop_box for s in data_samples]))
        flips = torch.tensor([bool(s.flip) for s in data_samples])
        aligned = crop_flip_patch_maps(maps, boxes, flips, tuple(maps.shape[1:]))
        return aligned.flatten(1)


def classification_loss(
    logits: torch.Tensor, data_samples: list[DataSample]
) -> torch.Tensor:
    """CE on logits (single-label) or masked BCE (multi-label ``gt_score``).

    The paper's classifier is single-label (CE). Multi-label chest X-ray
    tables (``gt_score`` multi-hot, -1 = uncertain/ignored) get a per-label
    BCE with logits over the known entries instead.
    """
    if 'gt_score' in data_samples[0]:
        scores = torch.stack([torch.as_tensor(s.gt_score) for s in data_samples])
        return masked_bce_with_logits(logits, scores.to(logits))
    labels = torch.cat([s.gt_label for s in data_samples]).to(logits.device)
    return F.cross_entropy(logits, labels)


@MODELS.register_module()
class MSMAE(AttentionMapStore, BaseSelfSupervisor):
    """MSMAE pretraining (https://arxiv.org/abs/2305.05871).

    Args:
        backbone: :class:`MSMAEViT` config.
        neck: :class:`MSMAEPretrainDecoder` config.
        head: :class:`MSMAEPretrainHead` config.
        num_classes: Classes of the supervised CLS classifier.
        mask_ratio: Fraction of patches masked (reconstructed) once attention
            maps exist (paper: 0.45).
        throw_ratio: Fraction of patches thrown (paper: 0.3).
        warmup_mask_ratio: Random-masking ratio before the first attention
            refresh (released code: 0.75, no throwing).
        cls_loss_weight: Weight of the CLS classification loss (paper: 0.1);
            see :func:`classification_loss`.
        **kwargs: Passed to ``BaseSelfSupervisor``.

    The per-image maps live in the persistent buffer ``attention_maps``
    (:class:`AttentionMapStore`), saved in and restored from checkpoints.
    """

    def __init__(
        self,
        backbone: dict,
        neck: dict,
        head: dict,
        num_classes: int,
        mask_ratio: float = 0.45,
        throw_ratio: float = 0.3,
        warmup_mask_ratio: float = 0.75,
        cls_loss_weight: float = 0.1,
        **kwargs,
    ) -> None:
        super().__init__(backbone=backbone, neck=neck, head=head, **kwargs)
        self.mask_ratio = mask_ratio
        self.throw_ratio = throw_ratio
        self.warmup_mask_ratio = warmup_mask_ratio
        self.cls_loss_weight = cls_loss_weight
        self.cls_head = nn.Linear(self.backbone.embed_dims, num_classes)
        self.init_attention_maps(self.backbone.patch_grid)

    def extract_feat(self, inputs: torch.Tensor):
        """Full-image encoder features (no masking)."""
        return self.backbone(inputs, split=None)

    def compute_attention_maps(self, inputs: torch.Tensor) -> torch.Tensor:
        """Maps for the refresh pass of :class:`MSMAEAttentionHook`."""
        return self.backbone.cls_attention_maps(inputs)

    def sample_split(
        self, inputs: torch.Tensor, data_samples: list[DataSample]
    ) -> MaskThrowSplit:
        """Attention-driven split once maps exist, random masking before."""
        num_patches = self.backbone.num_patches
        if self.has_attention_maps:
            return attention_mask_throw(
                self.patch_weights(data_samples).to(inputs.device),
                self.mask_ratio,
                self.throw_ratio,
            )
        uniform = inputs.new_ones(inputs.shape[0], num_patches)
        return attention_mask_throw(uniform, self.warmup_mask_ratio, 0.0)

    def loss(
        self, inputs: torch.Tensor, data_samples: list[DataSample], **kwargs
    ) -> dict[str, torch.Tensor]:
        """Masked reconstruction MSE + weighted CLS cross-entropy."""
        split = self.sample_split(inputs, data_samples)
        latent = self.backbone(inputs, split)
        pred, ids_decoded = self.neck(latent, split)
        masked = torch.gather(split.codes, 1, ids_decoded) == MASKED
        loss_rec = self.head.loss(pred, inputs, ids_decoded, masked)
        loss_cls = classification_loss(self.cls_head(latent[:, 0]), data_samples)
        return dict(loss_rec=loss_rec, loss_cls=self.cls_loss_weight * loss_cls)


@MODELS.register_module()
class MSMAEClassifier(AttentionMapStore, ImageClassifier):
    """Fine-tuning with MSMAE's supervised attention-driven masking (SAM).

    In training, once :class:`MSMAEAttentionHook` has stored maps, the
    backbone encodes only the *kept* patches of an attention-driven
    mask/throw split (the released code keeps the last-drawn 25%, i.e. mostly
    low-attention patches, for a cheaper step); before that, and in
    validation/test, it sees the full image. Works with any mmpretrain
    ``VisionTransformer`` with a CLS token (``CXRViT`` tiny/small/base).

    Args:
        mask_ratio: Fraction of patches dropped as "masked" (released: 0.45).
        throw_ratio: Fraction dropped as "thrown" (released: 0.3).
        **kwargs: Passed to mmpretrain's ``ImageClassifier``.
    """

    def __init__(
        self, *args, mask_ratio: float = 0.45, throw_ratio: float = 0.3, **kwargs
    ) -> None:
        super().__init__(*args, **kwargs)
        if not isinstance(self.backbone, VisionTransformer) or not getattr(
            self.backbone, 'with_cls_token', False
        ):
            raise TypeError(
                'MSMAEClassifier needs an mmpretrain VisionTransformer '
                f'backbone with a CLS token, got {type(self.backbone)}'
            )
        self.mask_ratio = mask_ratio
        self.throw_ratio = throw_ratio
        self.init_attention_maps(tuple(self.backbone.patch_resolution))

    def compute_attention_maps(self, inputs: torch.Tensor) -> torch.Tensor:
        """Maps for the refresh pass of :class:`MSMAEAttentionHook`."""
        return vit_cls_attention_maps(self.backbone, inputs)

    def kept_patch_features(
        self, inputs: torch.Tensor, data_samples: list[DataSample]
    ) -> tuple:
        """Backbone (+neck) features computed from the kept patches only."""
        split = attention_mask_throw(
            self.patch_weights(data_samples).to(inputs.device),
            self.mask_ratio,
            self.throw_ratio,
        )
        vit = self.backbone
        tokens = embed_vit_tokens(vit, inputs, split.ids_kept)[0]
        for index, layer in enumerate(vit.layers):
            tokens = layer(tokens)
            if index == len(vit.layers) - 1 and vit.final_norm:
                tokens = vit.ln1(tokens)
        feats = (vit._format_output(tokens, None),)
        return self.neck(feats) if self.with_neck else feats

    def loss(self, inputs: torch.Tensor, data_samples: list[DataSample]) -> dict:
        """Head loss on kept-patch features once maps exist, else full image."""
        if not self.has_attention_maps:
            return super().loss(inputs, data_samples)
        return self.head.loss(
            self.kept_patch_features(inputs, data_samples), data_samples
        )
