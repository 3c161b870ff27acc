"""Chest X-ray datasets and transforms (mmpretrain registry)."""

from . import transforms
from .base import CXRBaseDataset, LabelTable
from .leakage import PatientLeakageError, assert_no_leakage, find_overlaps
from .nih_cxr14 import NIH_CLASSES, NIHChestXray14
from .tables import LabelTableError

__all__ = [
    'transforms', 'CXRBaseDataset', 'LabelTable', 'LabelTableError',
    'PatientLeakageError', 'assert_no_leakage', 'find_overlaps', 'NIH_CLASSES',
    'NIHChestXray14',
]
from .image_report import CXRImageReportDataset, MRMTokenizeReport  # noqa: F401
