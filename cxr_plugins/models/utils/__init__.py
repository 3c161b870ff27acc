"""Model utilities: batch augments for multi-label CXR targets."""

from .multilabel_mix import CXRMultiLabelCutMix, CXRMultiLabelMixup, mix_multi_hot

__all__ = ['CXRMultiLabelCutMix', 'CXRMultiLabelMixup', 'mix_multi_hot']
