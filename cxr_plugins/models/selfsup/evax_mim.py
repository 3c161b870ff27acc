"""EVA-X-style masked image modelling with a frozen feature teacher.

Yao et al., "EVA-X: A Foundation Model for General Chest X-ray Analysis with
Self-supervised Learning" (https://arxiv.org/abs/2405.05237). EVA-X's
pretraining code was never released; this follows what its repository shows
(``figs/pipeline.png``) and its ancestor EVA (Fang et al.,
https://arxiv.org/abs/2211.07636): the student sees **mask tokens in place of
the masked patches** (BEiT-style block-wise masking, Bao et al.,
https://arxiv.org/abs/2106.08254), a linear projection maps its patch tokens to
the teacher's width, and the loss aligns them with a **frozen teacher's**
features of the full image at the masked positions by negative cosine
similarity. The mask ratio and loss type are EVA's choices; EVA-X does not
state them.

Written here because neither mmpretrain nor timm has this algorithm; the teacher
is any registered backbone (``CXRViT`` or an EVA-X backbone) loaded through its
``init_cfg``.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from mmpretrain.models.backbones import VisionTransformer
from mmpretrain.models.selfsup import BaseSelfSupervisor
from mmpretrain.registry import MODELS
from mmpretrain.structures import DataSample
from torch import nn

from cxr_plugins.models.selfsup.masking import block_wise_masking, patch_mask_to_pixels
from cxr_plugins.models.utils.token_embedding import embed_vit_tokens


def vit_patch_tokens_with_mask_tokens(
    vit: VisionTransformer,
    images: torch.Tensor,
    mask: torch.Tensor,
    mask_token: torch.Tensor,
) -> torch.Tensor:
    """Run an mmpretrain ViT with masked patch embeddings replaced by a token.

    Args:
        vit: mmpretrain ``VisionTransformer`` (e.g. ``CXRViT``).
        images: ``(B, C, H, W)`` normalised images.
        mask: ``(B, L)`` boolean patch mask, ``True`` = replace by ``mask_token``.
        mask_token: ``(1, 1, D)`` learnable token.

    Returns:
        ``(B, L, D)`` patch tokens of the last layer (after the final norm when
        the ViT has one), extra tokens removed.
    """
    tokens = embed_vit_tokens(vit, images, mask=mask, mask_token=mask_token)[0]
    for layer in vit.layers:
        tokens = layer(tokens)
    if vit.final_norm:
        tokens = vit.ln1(tokens)
    return tokens[:, vit.num_extra_tokens :]


def teacher_patch_features(
    outputs: tuple | torch.Tensor, num_patches: int
) -> torch.Tensor:
    """Turn a backbone's output into ``(B, L, C)`` patch features.

    Args:
        outputs: Backbone output; its last element must be a ``(B, C, h, w)``
            feature map or ``(B, L, C)`` patch tokens.
        num_patches: Expected ``L`` (the student's patch count).

    Returns:
        ``(B, L, C)`` features.
    """
    features = outputs[-1] if isinstance(outputs, (tuple, list)) else outputs
    if features.dim() == 4:
        features = features.flatten(2).transpose(1, 2)
    if features.dim() != 3 or features.shape[1] != num_patches:
        raise ValueError(
            f'teacher output {tuple(features.shape)} is not (B, C, h, w) or '
            f'(B, L, C) with h*w = L = {num_patches} patches; configure the '
            "teacher with out_type='featmap' and the student's patch grid"
        )
    return features


def masked_cosine_loss(
    prediction: torch.Tensor, target: torch.Tensor, mask: torch.Tensor
) -> torch.Tensor:
    """``1 - cos(prediction, target)`` averaged over the masked positions.

    Args:
        prediction: ``(B, L, C)`` projected student tokens.
        target: ``(B, L, C)`` teacher features.
        mask: ``(B, L)`` boolean mask, ``True`` = masked.

    Returns:
        Scalar loss.
    """
    cosine = F.cosine_similarity(prediction, target.detach(), dim=-1)
    return (1 - cosine)[mask].mean()


@MODELS.register_module()
class EVAXMIM(BaseSelfSupervisor):
    """Masked feature modelling against a frozen teacher (EVA-X style).

    Args:
        backbone: Student config, an mmpretrain ``VisionTransformer`` subclass
            such as ``CXRViT`` (use ``final_norm=True``), or any backbone with a
            ``forward_with_mask_tokens(images, mask, mask_token)`` method
            returning ``(B, L, D)`` patch tokens.
        teacher: Frozen teacher config, loaded from a checkpoint through its
            ``init_cfg`` (e.g. ``CXRViT`` with ``out_type='featmap'``).
        teacher_dims: Width of the teacher features; defaults to the teacher's
            ``embed_dims``.
        mask_ratio: Fraction of patches masked block-wise (EVA: 0.4).
        min_block_patches: Smallest masked rectangle, in patches (BEiT: 16 on a
            14x14 grid).
        data_preprocessor: Preprocessor config (``SelfSupDataPreprocessor``).
        init_cfg: Initialisation config.
    """

    def __init__(
        self,
        backbone: dict,
        teacher: dict,
        teacher_dims: int | None = None,
        mask_ratio: float = 0.4,
        min_block_patches: int = 16,
        data_preprocessor: dict | None = None,
        init_cfg: dict | None = None,
    ) -> None:
        super().__init__(
            backbone=backbone, data_preprocessor=data_preprocessor, init_cfg=init_cfg
        )
        self.teacher: nn.Module = MODELS.build(teacher)
        self.teacher.requires_grad_(False)
        self.teacher.eval()
        if teacher_dims is None:
            if not hasattr(self.teacher, 'embed_dims'):
                raise ValueError(
                    'teacher has no embed_dims attribute; pass teacher_dims explicitly'
                )
            teacher_dims = self.teacher.embed_dims
        student_dims = self.backbone.embed_dims
        self.mask_token = nn.Parameter(torch.zeros(1, 1, student_dims))
        nn.init.trunc_normal_(self.mask_token, std=0.02)
        self.projection = nn.Linear(student_dims, teacher_dims)
        if not 0 < mask_ratio < 1:
            raise ValueError(f'mask_ratio must be in (0, 1), got {mask_ratio}')
        self.mask_ratio = mask_ratio
        self.min_block_patches = min_block_patches

    def init_weights(self) -> None:
        """Initialise the student; the teacher loads strictly from its checkpoint.

        A teacher left random (or loaded with mmengine's non-strict
        ``Pretrained``, which only logs mismatches) would give meaningless
        targets without any error, so ``CXRPretrained`` is required.
        """
        teacher_init = self.teacher.init_cfg
        if not (
            isinstance(teacher_init, dict)
            and teacher_init.get('type') == 'CXRPretrained'
        ):
            raise ValueError(
                'EVAXMIM: the teacher needs init_cfg=dict(type="CXRPretrained", '
                f'checkpoint=...) so that it loads completely; got {teacher_init!r}'
            )
        super().init_weights()

    def train(self, mode: bool = True) -> EVAXMIM:
        """Set train mode everywhere except the frozen teacher (always eval)."""
        super().train(mode)
        self.teacher.eval()
        return self

    @property
    def patch_grid(self) -> tuple[int, int]:
        """The student's patch grid ``(H, W)``."""
        return tuple(self.backbone.patch_resolution)

    def sample_mask(
        self,
        batch_size: int,
        device: torch.device,
        generator: torch.Generator | None = None,
    ) -> torch.Tensor:
        """Block-wise ``(B, L)`` boolean mask at ``mask_ratio``."""
        height, width = self.patch_grid
        num_masking = math.ceil(height * width * self.mask_ratio)
        return block_wise_masking(
            batch_size,
            (height, width),
            num_masking,
            min_block_patches=min(self.min_block_patches, num_masking),
            generator=generator,
            device=device,
        )

    def student_prediction(
        self, inputs: torch.Tensor, mask: torch.Tensor
    ) -> torch.Tensor:
        """Projected student patch tokens for masked inputs, ``(B, L, C_t)``."""
        if hasattr(self.backbone, 'forward_with_mask_tokens'):
            tokens = self.backbone.forward_with_mask_tokens(
                inputs, mask, self.mask_token
            )
        elif isinstance(self.backbone, VisionTransformer):
            tokens = vit_patch_tokens_with_mask_tokens(
                self.backbone, inputs, mask, self.mask_token
            )
        else:
            raise TypeError(
                f'{type(self.backbone).__name__} is neither an mmpretrain '
                'VisionTransformer nor has forward_with_mask_tokens()'
            )
        return self.projection(tokens)

    @torch.no_grad()
    def teacher_targets(self, inputs: torch.Tensor) -> torch.Tensor:
        """Frozen teacher features of the full image, ``(B, L, C_t)``."""
        height, width = self.patch_grid
        return teacher_patch_features(self.teacher(inputs), height * width)

    def loss(
        self,
        inputs: torch.Tensor,
        data_samples: list[DataSample] | None = None,
        **kwargs,
    ) -> dict[str, torch.Tensor]:
        """Negative cosine similarity to the teacher at the masked patches."""
        mask = self.sample_mask(inputs.shape[0], inputs.device)
        prediction = self.student_prediction(inputs, mask)
        target = self.teacher_targets(inputs)
        return dict(loss=masked_cosine_loss(prediction, target, mask))

    @torch.no_grad()
    def reconstruct(
        self, inputs: torch.Tensor, generator: torch.Generator | None = None
    ) -> dict[str, torch.Tensor]:
        """Mask and per-patch student/teacher cosine similarity, for figures.

        Args:
            inputs: ``(B, C, H, W)`` images after the data preprocessor.
            generator: Optional seeded generator (CPU) for the mask.

        Returns:
            ``mask`` (1 = masked), ``masked`` (masked patches set to 0) and
            ``similarity``: ``(B, 1, H, W)`` cosine similarity per patch.
        """
        mask = self.sample_mask(inputs.shape[0], inputs.device, generator)
        prediction = self.student_prediction(inputs, mask)
        target = self.teacher_targets(inputs)
        cosine = F.cosine_similarity(prediction, target, dim=-1)
        patch_size = inputs.shape[-1] // self.patch_grid[1]
        pixel_mask = patch_mask_to_pixels(mask.float(), self.patch_grid, patch_size)
        similarity = patch_mask_to_pixels(cosine, self.patch_grid, patch_size)
        return dict(
            mask=pixel_mask, masked=inputs * (1 - pixel_mask), similarity=similarity
        )
