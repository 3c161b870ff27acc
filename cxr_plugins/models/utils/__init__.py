"""Model utilities: batch augments for multi-label CXR targets, ViT token input."""

from cxr_plugins.models.utils.multilabel_mix import (
    CXRMultiLabelCutMix,
    CXRMultiLabelMixup,
    mix_multi_hot,
)
from cxr_plugins.models.utils.token_embedding import embed_vit_tokens, gather_tokens

__all__ = [
    'CXRMultiLabelCutMix',
    'CXRMultiLabelMixup',
    'embed_vit_tokens',
    'gather_tokens',
    'mix_multi_hot',
]
