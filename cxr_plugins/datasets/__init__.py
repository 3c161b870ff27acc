"""Chest X-ray datasets and transforms (mmpretrain registry)."""

from cxr_plugins.datasets import transforms
from cxr_plugins.datasets.base import CXRBaseDataset, LabelTable
from cxr_plugins.datasets.chexpert import (
    CHEXPERT_CLASSES,
    CHEXPERT_COMPETITION_CLASSES,
    SEED_UNCERTAIN_POLICY,
    CheXpert,
)
from cxr_plugins.datasets.covidx import COVIDX_2_CLASSES, COVIDX_3_CLASSES, COVIDx
from cxr_plugins.datasets.image_folder import CXRImageFolder
from cxr_plugins.datasets.label_table import CXR_META_KEYS, CXRLabelTable
from cxr_plugins.datasets.leakage import (
    PatientLeakageError,
    assert_no_leakage,
    find_overlaps,
)
from cxr_plugins.datasets.medmnist import PNEUMONIAMNIST_CLASSES, MedMNIST
from cxr_plugins.datasets.mimic_cxr import MIMICCXR
from cxr_plugins.datasets.nih_cxr14 import NIH_CLASSES, NIHChestXray14
from cxr_plugins.datasets.rsna_pneumonia import RSNA_CLASSES, RSNAPneumonia
from cxr_plugins.datasets.tables import LabelTableError

__all__ = [
    'transforms',
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
    'CXR_META_KEYS',
    'CXRLabelTable',
    'PatientLeakageError',
    'assert_no_leakage',
    'find_overlaps',
    'MedMNIST',
    'PNEUMONIAMNIST_CLASSES',
    'MIMICCXR',
    'NIH_CLASSES',
    'NIHChestXray14',
    'RSNA_CLASSES',
    'RSNAPneumonia',
    'LabelTableError',
]
from cxr_plugins.datasets.image_report import CXRImageReportDataset, MRMTokenizeReport  # noqa: F401
