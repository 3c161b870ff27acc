"""Training hooks (mmpretrain registry)."""

from .nan_guard import NaNGuardHook, NonFiniteLossError
from .rng_state import RNGStateHook

__all__ = ['NaNGuardHook', 'NonFiniteLossError', 'RNGStateHook']
from .msmae_attention import MSMAEAttentionHook  # noqa: F401
