"""Chest X-ray datasets and transforms (mmpretrain registry)."""

from . import transforms
from .bad_image_hook import CXRBadImageReportHook
from .base import CXRBaseDataset, LabelTable
from .chexpert import (
    CHEXPERT_CLASSES,
    CHEXPERT_COMPETITION_CLASSES,
    SEED_UNCERTAIN_POLICY,
    CheXpert,
)
from .covidx import COVIDX_2_CLASSES, COVIDX_3_CLASSES, COVIDx
from .image_folder import CXRImageFolder
from .leakage import PatientLeakageError, assert_no_leakage, find_overlaps
from .mimic_cxr import MIMICCXR
from .nih_cxr14 import NIH_CLASSES, NIHChestXray14
from .rsna_pneumonia import RSNA_CLASSES, RSNAPneumonia
from .tables import LabelTableError

__all__ = [
    'transforms',
    'CXRBadImageReportHook',
    'CXRBaseDataset',
    'LabelTable',
    'CHEXPERT_CLASSES',
    'CHEXPERT_COMPETITION_CLASSES',
    'SEED_UNCERTAIN_POLICY',
    'CheXpert',
    'COVIDX_2_CLASSES',
    'COVIDX_3_CLASSES',
    'COVIDx',
    'CXRImageFolder',
    'PatientLeakageError',
    'assert_no_leakage',
    'find_overlaps',
    'MIMICCXR',
    'NIH_CLASSES',
    'NIHChestXray14',
    'RSNA_CLASSES',
    'RSNAPneumonia',
    'LabelTableError',
]
from .image_report import CXRImageReportDataset, MRMTokenizeReport  # noqa: F401
