"""Hooks, checkpoint I/O and optimizer constructors (mmpretrain registry)."""

from cxr_plugins.engine import checkpoint, hooks, optimizers

__all__ = ['checkpoint', 'hooks', 'optimizers']
