"""Metrics for chest X-ray tasks (mmpretrain registry)."""

from cxr_plugins.evaluation.metrics.auc_math import (
    bootstrap_auc,
    per_class_auc,
    weighted_auc,
)
from cxr_plugins.evaluation.metrics.cls_metrics import CXRClsMetrics
from cxr_plugins.evaluation.metrics.multilabel_auc import MultiLabelAUC

__all__ = [
    'CXRClsMetrics',
    'MultiLabelAUC',
    'bootstrap_auc',
    'per_class_auc',
    'weighted_auc',
]
