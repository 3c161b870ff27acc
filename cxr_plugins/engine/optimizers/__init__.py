"""Optimizer wrappers and constructors.

The mmseg layer-decay constructor is imported by ``cxr_plugins.seg``.
"""

from cxr_plugins.engine.optimizers.cpu_amp import (
    CPUAmpOptimWrapper,
    build_auto_amp_optim_wrapper,
    cpu_bf16_support,
)

__all__ = ['CPUAmpOptimWrapper', 'build_auto_amp_optim_wrapper', 'cpu_bf16_support']
