"""Metrics for chest X-ray tasks (mmpretrain registry)."""

from cxr_plugins.evaluation import metrics

__all__ = ['metrics']
