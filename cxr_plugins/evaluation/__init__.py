"""Metrics for chest X-ray tasks (mmpretrain registry)."""

from . import metrics

__all__ = ['metrics']
