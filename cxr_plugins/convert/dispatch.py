"""Seed checkpoint -> our backbone (+ classifier head): format detection and assembly.

The output is an mmpretrain ``ImageClassifier`` state dict: ``backbone.*`` always,
``head.fc.*`` only when the source carries a classifier whose size matches the
requested number of classes. Load it with ``init_cfg=dict(type='Pretrained',
checkpoint=..., prefix='backbone.')`` or ``load_from``.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass

import torch
from torch import nn

from cxr_plugins.convert.cnn import (
    byol_to_resnet,
    densenet_to_torchvision,
    moco_to_resnet,
    swav_to_resnet,
)
from cxr_plugins.convert.common import (
    ConversionError,
    ConversionReport,
    MappedWeights,
    fit_to_target,
    resample_patch_projection,
    resample_position_embedding,
    strip_prefixes,
    unwrap_checkpoint,
)
from cxr_plugins.convert.eva import eva_to_evax, infer_evax_arch
from cxr_plugins.convert.vit import (
    FC_NORM_FRESH,
    hf_vitmae_to_timm,
    timm_vit_to_mmpretrain,
)

VIT_FORMATS = ('medical_mae', 'mrm', 'msmae', 'hf_vitmae')
FORMATS = (*VIT_FORMATS, 'evax', 'densenet', 'moco', 'byol', 'swav')


@dataclass
class ConversionTarget:
    """Where the weights go: the target backbone and its registry config."""

    backbone: nn.Module
    backbone_cfg: dict
    pos_embed_key: str | None = None
    patch_proj_key: str | None = None


def detect_format(state_dict: Mapping[str, torch.Tensor]) -> str:
    """Guess the seed format from characteristic key names.

    Raises:
        ConversionError: No known layout matches; pass ``--format``.
    """
    keys = list(state_dict)

    def has(fragment: str) -> bool:
        return any(fragment in key for key in keys)

    rules = (
        ('hf_vitmae', has('embeddings.patch_embeddings.projection')),
        (
            'evax',
            has('attn.q_bias')
            or has('attn.q_proj')
            or has('mlp.w12')
            or has('mlp.ffn_ln')
            or has('mlp.w3'),
        ),
        ('mrm', has('bert_encoder.')),
        ('moco', has('encoder_q.')),
        ('byol', has('online_network.')),
        ('swav', has('prototypes.') or has('projection_head.')),
        ('densenet', has('denselayer')),
        ('msmae', has('blocks.0.attn.qkv') and has('head.weight') and has('decoder_')),
        ('medical_mae', has('blocks.0.attn.qkv')),
    )
    for name, matched in rules:
        if matched:
            return name
    raise ConversionError(
        f'cannot detect the checkpoint format from keys such as {keys[:5]}; '
        f'pass --format (one of {FORMATS})'
    )


def map_weights(state_dict: Mapping[str, torch.Tensor], fmt: str) -> MappedWeights:
    """Rename a seed state dict with the mapper of ``fmt``."""
    if fmt in ('medical_mae', 'mrm', 'msmae'):
        return timm_vit_to_mmpretrain(strip_prefixes(state_dict, ('module.',)))
    if fmt == 'hf_vitmae':
        # ViTMAEForPreTraining nests the encoder under vit., next to decoder.
        hf = hf_vitmae_to_timm(
            {key.removeprefix('vit.'): value for key, value in state_dict.items()}
        )
        mapped = timm_vit_to_mmpretrain(hf.backbone)
        mapped.dropped.update(hf.dropped)
        mapped.unmapped += hf.unmapped
        return mapped
    mappers: dict[str, Callable] = dict(
        evax=eva_to_evax,
        densenet=densenet_to_torchvision,
        moco=moco_to_resnet,
        byol=byol_to_resnet,
        swav=swav_to_resnet,
    )
    if fmt not in mappers:
        raise ConversionError(f'unknown format {fmt!r}; expected one of {FORMATS}')
    return mappers[fmt](state_dict)


def build_target(
    fmt: str,
    mapped: MappedWeights,
    arch: str | None = None,
    img_size: int | None = None,
    patch_size: int | None = None,
) -> ConversionTarget:
    """Build the backbone the mapped weights are meant for.

    ViT geometry (width, depth, patch, grid) is read off the checkpoint unless
    ``arch`` / ``img_size`` / ``patch_size`` ask for something else; then the
    position and patch embeddings are resampled.
    """
    if fmt in VIT_FORMATS or fmt == 'evax':
        proj_key = (
            'patch_embed.projection.weight'
            if fmt in VIT_FORMATS
            else 'patch_embed.proj.weight'
        )
        for key in (proj_key, 'pos_embed'):
            if key not in mapped.backbone:
                raise ConversionError(f'{fmt} checkpoint has no {key}')
        source_patch = mapped.backbone[proj_key].shape[-1]
        source_grid = math.isqrt(mapped.backbone['pos_embed'].shape[1] - 1)
        patch = patch_size or source_patch
        size = img_size or source_grid * source_patch
        if fmt == 'evax':
            cfg = dict(
                type='EVAX',
                arch=arch or infer_evax_arch(mapped.backbone),
                img_size=size,
                patch_size=patch,
            )
        else:
            cfg = dict(
                type='CXRViT',
                arch=arch or _infer_vit_arch(mapped.backbone),
                img_size=size,
                patch_size=patch,
            )
        return ConversionTarget(_build(cfg), cfg, 'pos_embed', proj_key)
    if fmt == 'densenet':
        cfg = dict(type='CXRDenseNet', arch=arch or '121')
        return ConversionTarget(_build(cfg), cfg)
    cfg = dict(type='ResNet', depth=int(arch or 50))
    return ConversionTarget(_build(cfg), cfg)


def _build(cfg: dict) -> nn.Module:
    """Build a backbone in mmpretrain's scope, whatever scope is current."""
    from mmengine.registry import DefaultScope
    from mmpretrain.registry import MODELS

    with DefaultScope.overwrite_default_scope('mmpretrain'):
        return MODELS.build(cfg)


def _infer_vit_arch(state_dict: Mapping[str, torch.Tensor]) -> dict:
    from cxr_plugins.convert.vit import infer_vit_geometry

    geometry = infer_vit_geometry(state_dict)
    return dict(
        embed_dims=geometry['embed_dims'],
        num_layers=geometry['num_layers'],
        num_heads=max(geometry['embed_dims'] // 64, 1),
        feedforward_channels=geometry['feedforward_channels'],
    )


def convert_checkpoint(
    checkpoint: Mapping,
    fmt: str = 'auto',
    arch: str | None = None,
    img_size: int | None = None,
    patch_size: int | None = None,
    num_classes: int | None = None,
) -> tuple[dict[str, torch.Tensor], ConversionReport, ConversionTarget]:
    """Convert a loaded seed checkpoint into an ``ImageClassifier`` state dict.

    Args:
        checkpoint: What the safe loader returned (wrapped or bare).
        fmt: A name from :data:`FORMATS` or ``'auto'``.
        arch: Target arch name (``CXRViT``/``EVAX`` arch or ResNet depth);
            inferred from the checkpoint when ``None``.
        img_size: Target input size (pos-embed is resampled to it).
        patch_size: Target patch size (patch kernel is resampled to it).
        num_classes: Write ``head.fc.*`` when the source carries a fine-tuned
            classifier with this many outputs; otherwise the head is dropped
            and reported (a pretraining classifier, MSMAE's, always is).

    Returns:
        The state dict (``backbone.*`` [+ ``head.fc.*``]), the report and the
        target (its ``backbone_cfg`` says which backbone config to use).
    """
    state_dict, _ = unwrap_checkpoint(checkpoint)
    if fmt == 'auto':
        fmt = detect_format(state_dict)
    mapped = map_weights(state_dict, fmt)
    target = build_target(fmt, mapped, arch, img_size, patch_size)
    target_state = target.backbone.state_dict()
    resamplers = {}
    if target.pos_embed_key:
        resamplers[target.pos_embed_key] = lambda tensor, shape: (
            resample_position_embedding(tensor, shape[1] - 1)
        )
        resamplers[target.patch_proj_key] = lambda tensor, shape: (
            resample_patch_projection(tensor, shape[-1])
        )
    fresh = {'ln2.*' if fmt in VIT_FORMATS else 'fc_norm.*': FC_NORM_FRESH}
    fitted, report = fit_to_target(mapped, target_state, fmt, resamplers, fresh)
    if arch is None and fmt in (*VIT_FORMATS, 'evax'):
        report.notes.append(
            'num_heads is not stored in the weights; assumed head dim 64 '
            f'({target.backbone_cfg["arch"]}); pass --arch if that is wrong'
        )
    output = {f'backbone.{key}': value for key, value in fitted.items()}
    if mapped.head:
        head_classes = mapped.head['fc.weight'].shape[0]
        if num_classes is not None and head_classes == num_classes:
            for key, value in mapped.head.items():
                output[f'head.{key}'] = value.contiguous()
                report.head.append(f'head.{key}')
        else:
            for key in mapped.head:
                report.dropped[f'head.{key}'] = (
                    f'classifier with {head_classes} outputs '
                    f'(--num-classes {num_classes})'
                )
    return output, report, target
