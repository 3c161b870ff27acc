"""Grad-CAM for our ViT and CNN classifiers.

Selvaraju et al., "Grad-CAM: Visual Explanations from Deep Networks via
Gradient-based Localization", ICCV 2017 (https://arxiv.org/abs/1610.02391),
computed by ``pytorch-grad-cam``. What is ours: picking the target layer of
each backbone (the last block's first LayerNorm for ViTs, as EVA-X's
``get_cams.py`` does; the last stage for CNNs), the token -> feature-map
reshape for ViTs (prefix tokens dropped, ``B x N x C -> B x C x h x w``; it is
the same whether the backbone pools with the cls token or averages patch
tokens, since the gradient reaches patch tokens either way), and a per-class
target on the raw logits of multi-label heads (``ClassifierOutputTarget(i)``).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence

import numpy as np
import torch
from torch import nn


class ClassifierLogits(nn.Module):
    """``(B, 3, H, W)`` normalised images -> ``(B, num_classes)`` logits."""

    def __init__(self, classifier: nn.Module):
        super().__init__()
        self.classifier = classifier

    def forward(self, inputs: torch.Tensor) -> torch.Tensor:
        return self.classifier(inputs, mode='tensor')


def vit_tokens_to_map(tokens: torch.Tensor, num_prefix_tokens: int = 1) -> torch.Tensor:
    """``(B, prefix + h*w, C)`` tokens -> ``(B, C, h, w)`` patch feature map.

    Raises:
        ValueError: The patch tokens do not form a square grid.
    """
    patches = tokens[:, num_prefix_tokens:]
    side = math.isqrt(patches.shape[1])
    if side * side != patches.shape[1]:
        raise ValueError(
            f'{patches.shape[1]} patch tokens (after {num_prefix_tokens} prefix '
            'tokens) do not form a square grid; Grad-CAM needs square inputs'
        )
    return patches.reshape(patches.shape[0], side, side, -1).permute(0, 3, 1, 2)


def cam_target_layer(backbone: nn.Module) -> tuple[nn.Module, Callable | None]:
    """The layer to explain and the reshape transform for a backbone.

    Returns:
        ``(layer, reshape_transform)``; ``reshape_transform`` is ``None`` for
        CNNs, whose activations already are ``B x C x h x w``.

    Raises:
        TypeError: A backbone this function does not know.
    """
    if hasattr(backbone, 'layers') and hasattr(backbone, 'cls_token'):  # CXRViT
        prefix = getattr(backbone, 'num_extra_tokens', 1)
        return backbone.layers[-1].ln1, (
            lambda tokens: vit_tokens_to_map(tokens, prefix)
        )
    if hasattr(backbone, 'blocks') and hasattr(backbone, 'cls_token'):  # EVAX
        return backbone.blocks[-1].norm1, vit_tokens_to_map
    if hasattr(backbone, 'res_layers'):  # mmpretrain ResNet
        return getattr(backbone, backbone.res_layers[-1]), None
    if hasattr(backbone, 'features'):  # torchvision-style DenseNet
        return backbone.features, None
    raise TypeError(f'no Grad-CAM target layer known for {type(backbone).__name__}')


def compute_cams(
    classifier: nn.Module,
    inputs: torch.Tensor,
    class_indices: Sequence[int],
    target_layer: str | None = None,
) -> np.ndarray:
    """Grad-CAM of every image for every requested class.

    Args:
        classifier: mmpretrain ``ImageClassifier``.
        inputs: ``(B, 3, H, W)`` images *after* the data preprocessor.
        class_indices: Classes to explain (logit indices).
        target_layer: A CNN backbone's submodule to explain instead of its
            last stage (e.g. ``'layer3'``: ResNet-18 at 64 px ends in a 2x2
            map whose Grad-CAM is often all zero).

    Returns:
        ``(B, len(class_indices), H, W)`` CAMs in ``[0, 1]``.
    """
    from pytorch_grad_cam import GradCAM
    from pytorch_grad_cam.utils.model_targets import ClassifierOutputTarget

    layer, reshape = cam_target_layer(classifier.backbone)
    if target_layer is not None:
        if reshape is not None:
            raise ValueError('target_layer is for CNN backbones only')
        layer = classifier.backbone.get_submodule(target_layer)
    wrapper = ClassifierLogits(classifier).eval()
    cams = []
    with GradCAM(
        model=wrapper, target_layers=[layer], reshape_transform=reshape
    ) as cam:
        for index in class_indices:
            targets = [ClassifierOutputTarget(index)] * inputs.shape[0]
            cams.append(cam(input_tensor=inputs, targets=targets))
    return np.stack(cams, axis=1)


def overlay_cam(
    image: np.ndarray, cam: np.ndarray, image_weight: float = 0.5
) -> np.ndarray:
    """Jet-coloured CAM over an ``(H, W, 3)`` uint8 image, as uint8 RGB."""
    from pytorch_grad_cam.utils.image import show_cam_on_image

    if image.shape[:2] != cam.shape:
        raise ValueError(f'image {image.shape[:2]} and CAM {cam.shape} differ in size')
    return show_cam_on_image(
        image.astype(np.float32) / 255.0, cam, use_rgb=True, image_weight=image_weight
    )
