"""Metrics for chest X-ray tasks (mmpretrain registry)."""

from .auc_math import bootstrap_auc, per_class_auc, weighted_auc
from .cls_metrics import CXRClsMetrics
from .multilabel_auc import MultiLabelAUC

__all__ = [
    'CXRClsMetrics',
    'MultiLabelAUC',
    'bootstrap_auc',
    'per_class_auc',
    'weighted_auc',
]
