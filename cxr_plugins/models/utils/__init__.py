"""Model utilities: batch augments for multi-label CXR targets."""

from cxr_plugins.models.utils.multilabel_mix import (
    CXRMultiLabelCutMix,
    CXRMultiLabelMixup,
    mix_multi_hot,
)

__all__ = ['CXRMultiLabelCutMix', 'CXRMultiLabelMixup', 'mix_multi_hot']
