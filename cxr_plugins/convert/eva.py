"""Map EVA-X / EVA-02 checkpoints to the keys of :class:`cxr_plugins.models.EVAX`.

EVA-X (Yao et al., https://arxiv.org/abs/2405.05237) publishes EVA-02 style
weights (Fang et al., https://arxiv.org/abs/2303.11331): ``q_bias``/``v_bias``
(tiny/small) or ``q_proj``/``k_proj``/``v_proj`` (base), SwiGLU ``mlp.w12``
(fused) or ``mlp.w1/w2`` with the sub-LN ``mlp.ffn_ln`` (base), ``mlp.w3``.
``EVAX`` adopts timm's ``Eva`` module names, so this is the rename list of
EVA-X's ``checkpoint_filter_fn``: ``w12->fc1``, ``w1->fc1_g``, ``w2->fc1_x``,
``w3->fc2``, ``ffn_ln->norm`` and, when q/k/v are separate projections (base),
``q_bias->q_proj.bias`` and ``v_bias->v_proj.bias`` (the seed keeps the
biases as separate parameters next to bias-free projections; timm's non-fused
attention holds them inside the projections). ``rope``, ``mask_token`` and
``lm_head`` are pretraining-only. Unlike ``checkpoint_filter_fn``, the MIM
final ``norm`` is not moved into ``fc_norm``: EVA-X's fine-tuning
(``train.py``) starts ``fc_norm`` fresh, and so do we.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

import torch

from cxr_plugins.convert.common import MappedWeights, strip_prefixes
from cxr_plugins.convert.vit import FINAL_NORM_DROPPED, rename_by_rules

EVA_RENAMES = (
    (r'^(blocks\.\d+\.mlp)\.w12\.', r'\1.fc1.'),
    (r'^(blocks\.\d+\.mlp)\.w1\.', r'\1.fc1_g.'),
    (r'^(blocks\.\d+\.mlp)\.w2\.', r'\1.fc1_x.'),
    (r'^(blocks\.\d+\.mlp)\.w3\.', r'\1.fc2.'),
    (r'^(blocks\.\d+\.mlp)\.ffn_ln\.', r'\1.norm.'),
    (r'^(cls_token|pos_embed|fc_norm\..*|patch_embed\.proj\..*)$', r'\1'),
    (r'^(blocks\.\d+\.(?:norm1|norm2|attn|mlp)\..*)$', r'\1'),
)

EVA_PRETRAIN_ONLY = (
    (r'(^|\.)rope\.', 'RoPE frequency buffers (recomputed by the model)'),
    (r'^mask_token$', 'MIM mask token (pretraining only)'),
    (r'^lm_head\.', 'MIM prediction head (pretraining only)'),
)


def eva_to_evax(state_dict: Mapping[str, torch.Tensor]) -> MappedWeights:
    """Rename an EVA-X / EVA-02 state dict to ``EVAX`` parameter names.

    Args:
        state_dict: Unwrapped source state dict (``module.``/``backbone.``
            prefixes are stripped).

    Returns:
        Mapped weights; ``head.*`` goes to the classifier head as ``fc.*``.
    """
    state = strip_prefixes(state_dict, ('module.', 'backbone.'))
    mapped = MappedWeights()
    separate_qkv = 'blocks.0.attn.q_proj.weight' in state
    for key, tensor in state.items():
        reason = next(
            (why for pattern, why in EVA_PRETRAIN_ONLY if re.search(pattern, key)), None
        )
        if key.startswith('norm.'):
            reason = FINAL_NORM_DROPPED
        if separate_qkv:
            key = re.sub(r'\.attn\.([qv])_bias$', r'.attn.\1_proj.bias', key)
        if reason is not None:
            mapped.dropped[key] = reason
        elif key.startswith('head.'):
            mapped.head['fc.' + key[len('head.') :]] = tensor
        elif (new_key := rename_by_rules(key, EVA_RENAMES)) is not None:
            mapped.backbone[new_key] = tensor
        else:
            mapped.unmapped.append(key)
    return mapped


def infer_evax_arch(state_dict: Mapping[str, torch.Tensor]) -> dict:
    """Build an ``EVAX`` arch dict from mapped keys (head dim 64, as EVA-X)."""
    embed_dim = state_dict['cls_token'].shape[-1]
    depth = 1 + max(
        int(match.group(1))
        for key in state_dict
        if (match := re.match(r'blocks\.(\d+)\.', key))
    )
    return dict(
        embed_dim=embed_dim,
        depth=depth,
        num_heads=max(embed_dim // 64, 1),
        qkv_fused='blocks.0.attn.q_proj.weight' not in state_dict,
        scale_mlp='blocks.0.mlp.norm.weight' in state_dict,
    )
