"""Hooks and optimizer helpers (mmpretrain registry)."""

from . import hooks

__all__ = ['hooks']
