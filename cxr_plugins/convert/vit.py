"""Map timm / HuggingFace ViT checkpoints to mmpretrain ``VisionTransformer`` keys.

Covers the MAE-family seeds, all of which save timm ViT names
(``patch_embed.proj``, ``blocks.N.attn.qkv``, ``norm``) next to pretraining-only
tensors: Medical MAE (Xiao et al., https://arxiv.org/abs/2210.12843), MRM
(Zhou et al., https://arxiv.org/abs/2301.13155; ``bert_encoder.*`` report
branch) and MSMAE (``head.*`` pretraining classifier); and HuggingFace
``ViTMAEModel`` / ``ViTMAEForPreTraining`` (``facebook/vit-mae-base`` naming),
whose separate query / key / value projections are concatenated into
mmpretrain's fused ``qkv`` in that order.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

import torch

from cxr_plugins.convert.common import MappedWeights

#: timm ViT name -> mmpretrain ViT name (regex on the full key).
TIMM_TO_MMPRETRAIN = (
    (r'^patch_embed\.proj\.', 'patch_embed.projection.'),
    (r'^blocks\.(\d+)\.norm1\.', r'layers.\1.ln1.'),
    (r'^blocks\.(\d+)\.norm2\.', r'layers.\1.ln2.'),
    (r'^blocks\.(\d+)\.attn\.qkv\.', r'layers.\1.attn.qkv.'),
    (r'^blocks\.(\d+)\.attn\.proj\.', r'layers.\1.attn.proj.'),
    (r'^blocks\.(\d+)\.mlp\.fc1\.', r'layers.\1.ffn.layers.0.0.'),
    (r'^blocks\.(\d+)\.mlp\.fc2\.', r'layers.\1.ffn.layers.1.'),
    (r'^fc_norm\.', 'ln2.'),
    (r'^(cls_token|pos_embed)$', r'\1'),
)

#: Source-key prefixes that belong to pretraining only, with the reason.
TIMM_PRETRAIN_ONLY = (
    ('decoder', 'MAE decoder (pretraining only)'),
    ('mask_token', 'MAE mask token (pretraining only)'),
    ('bert_', 'MRM report branch (pretraining only)'),
)

#: Why the pretraining encoder's final ``norm`` is not converted.
FINAL_NORM_DROPPED = (
    "pretraining final norm: the seeds' fine-tuning pools the patch tokens "
    'into a fresh fc_norm (weight 1, bias 0) and never loads it'
)
#: Why ``fc_norm`` may stay at its initialisation.
FC_NORM_FRESH = 'fresh fc_norm (weight 1, bias 0), as the seeds fine-tune'
#: Why a pretraining checkpoint's classifier is not converted.
PRETRAINING_HEAD_DROPPED = (
    'pretraining classifier (MSMAE cls loss); the seed deletes it before fine-tuning'
)

#: HF ViTMAE name -> timm name; ``{n}`` is the layer index.
HF_TO_TIMM = (
    (r'^embeddings\.cls_token$', 'cls_token'),
    (r'^embeddings\.position_embeddings$', 'pos_embed'),
    (r'^embeddings\.patch_embeddings\.projection\.', 'patch_embed.proj.'),
    (r'^encoder\.layer\.(\d+)\.layernorm_before\.', r'blocks.\1.norm1.'),
    (r'^encoder\.layer\.(\d+)\.layernorm_after\.', r'blocks.\1.norm2.'),
    (r'^encoder\.layer\.(\d+)\.attention\.output\.dense\.', r'blocks.\1.attn.proj.'),
    (r'^encoder\.layer\.(\d+)\.intermediate\.dense\.', r'blocks.\1.mlp.fc1.'),
    (r'^encoder\.layer\.(\d+)\.output\.dense\.', r'blocks.\1.mlp.fc2.'),
    (r'^layernorm\.', 'norm.'),
    (r'^classifier\.', 'head.'),
)
_HF_QKV = re.compile(
    r'^encoder\.layer\.(\d+)\.attention\.attention\.(query|key|value)\.(weight|bias)$'
)


def rename_by_rules(key: str, rules: tuple[tuple[str, str], ...]) -> str | None:
    """Apply the first matching ``(pattern, replacement)`` rule, else ``None``."""
    for pattern, replacement in rules:
        if re.search(pattern, key):
            return re.sub(pattern, replacement, key)
    return None


def timm_vit_to_mmpretrain(state_dict: Mapping[str, torch.Tensor]) -> MappedWeights:
    """Rename a timm ViT state dict (MAE-family seeds) to mmpretrain ViT keys.

    ``fc_norm`` becomes ``ln2``. The final ``norm`` is dropped
    (:data:`FINAL_NORM_DROPPED`): Medical MAE, MRM and MSMAE fine-tune with
    global pooling and a fresh ``fc_norm``; MRM's ``train.py`` even asserts
    that ``fc_norm`` is missing from the file. A timm ``head.*`` goes to the
    classifier head, except in a pretraining checkpoint (one with a MAE
    decoder), where it is MSMAE's pretraining classifier and is dropped.

    Args:
        state_dict: Unwrapped source state dict.

    Returns:
        The mapped weights with dropped and unmapped keys listed.
    """
    mapped = MappedWeights()
    pretraining = any(key.startswith('decoder') for key in state_dict)
    for key, tensor in state_dict.items():
        reason = next(
            (why for prefix, why in TIMM_PRETRAIN_ONLY if key.startswith(prefix)), None
        )
        if key.startswith('norm.'):
            reason = FINAL_NORM_DROPPED
        elif key.startswith('head.') and pretraining:
            reason = PRETRAINING_HEAD_DROPPED
        if reason is not None:
            mapped.dropped[key] = reason
        elif key.startswith('head.'):
            mapped.head['fc.' + key[len('head.') :]] = tensor
        elif (new_key := rename_by_rules(key, TIMM_TO_MMPRETRAIN)) is not None:
            mapped.backbone[new_key] = tensor
        else:
            mapped.unmapped.append(key)
    return mapped


def hf_vitmae_to_timm(state_dict: Mapping[str, torch.Tensor]) -> MappedWeights:
    """Rename HuggingFace ViTMAE keys to timm ViT keys.

    The ``vit.`` prefix of ``ViTMAEForPreTraining`` must already be stripped.
    Query, key and value of each layer are concatenated along the output
    dimension in that order, which is the layout of timm's and mmpretrain's
    fused ``qkv`` projection. The pretraining ``decoder.*`` is dropped.

    Args:
        state_dict: HF state dict without the ``vit.`` prefix.

    Returns:
        Weights in timm names in ``backbone`` (pass them on to
        :func:`timm_vit_to_mmpretrain`), plus dropped / unmapped keys.
    """
    mapped = MappedWeights()
    qkv_parts: dict[tuple[str, str], dict[str, torch.Tensor]] = {}
    for key, tensor in state_dict.items():
        if key.startswith('decoder.'):
            mapped.dropped[key] = 'ViTMAE decoder (pretraining only)'
        elif match := _HF_QKV.match(key):
            layer, part, kind = match.groups()
            qkv_parts.setdefault((layer, kind), {})[part] = tensor
        elif (new_key := rename_by_rules(key, HF_TO_TIMM)) is not None:
            mapped.backbone[new_key] = tensor
        else:
            mapped.unmapped.append(key)
    for (layer, kind), parts in sorted(qkv_parts.items()):
        if set(parts) != {'query', 'key', 'value'}:
            raise ValueError(
                f'encoder.layer.{layer}.attention.attention: expected query, key '
                f'and value {kind}, found only {sorted(parts)}'
            )
        mapped.backbone[f'blocks.{layer}.attn.qkv.{kind}'] = torch.cat(
            [parts['query'], parts['key'], parts['value']], dim=0
        )
    return mapped


def infer_vit_geometry(state_dict: Mapping[str, torch.Tensor]) -> dict[str, int]:
    """Read embed dim, depth, patch size and grid size off mmpretrain ViT keys.

    Args:
        state_dict: Backbone tensors in mmpretrain names.

    Returns:
        ``embed_dims``, ``num_layers``, ``patch_size``, ``num_patches`` and
        ``feedforward_channels``.
    """
    for key in (
        'patch_embed.projection.weight',
        'pos_embed',
        'layers.0.ffn.layers.0.0.weight',
    ):
        if key not in state_dict:
            raise KeyError(f'cannot infer the ViT geometry: {key} missing')
    projection = state_dict['patch_embed.projection.weight']
    layer_ids = {
        int(match.group(1))
        for key in state_dict
        if (match := re.match(r'layers\.(\d+)\.', key))
    }
    return dict(
        embed_dims=projection.shape[0],
        num_layers=max(layer_ids) + 1,
        patch_size=projection.shape[-1],
        num_patches=state_dict['pos_embed'].shape[1] - 1,
        feedforward_channels=state_dict['layers.0.ffn.layers.0.0.weight'].shape[0],
    )
