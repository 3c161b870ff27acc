"""Training hooks (mmpretrain registry)."""

from cxr_plugins.engine.hooks.bad_image_report import CXRBadImageReportHook
from cxr_plugins.engine.hooks.msmae_attention import MSMAEAttentionHook
from cxr_plugins.engine.hooks.nan_guard import NaNGuardHook, NonFiniteLossError
from cxr_plugins.engine.hooks.rng_state import RNGStateHook

__all__ = [
    'CXRBadImageReportHook',
    'MSMAEAttentionHook',
    'NaNGuardHook',
    'NonFiniteLossError',
    'RNGStateHook',
]
