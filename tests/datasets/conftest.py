"""Synthetic radiograph files for the loader tests (written in tmp_path)."""

from pathlib import Path

import numpy as np
import pytest
from PIL import Image


def write_dicom(
    path: Path,
    pixels: np.ndarray | None,
    photometric: str = 'MONOCHROME2',
    window: tuple[float, float] | None = None,
) -> Path:
    """A minimal uncompressed single-frame DICOM (12 bits stored in 16)."""
    from pydicom.dataset import Dataset, FileMetaDataset
    from pydicom.uid import (
        ExplicitVRLittleEndian,
        SecondaryCaptureImageStorage,
        generate_uid,
    )

    meta = FileMetaDataset()
    meta.MediaStorageSOPClassUID = SecondaryCaptureImageStorage
    meta.MediaStorageSOPInstanceUID = generate_uid()
    meta.TransferSyntaxUID = ExplicitVRLittleEndian
    ds = Dataset()
    ds.file_meta = meta
    ds.SOPClassUID = SecondaryCaptureImageStorage
    ds.SOPInstanceUID = meta.MediaStorageSOPInstanceUID
    ds.Modality = 'DX'
    ds.PatientID = 'synthetic'
    ds.SamplesPerPixel = 1
    ds.PhotometricInterpretation = photometric
    ds.BitsAllocated = 16
    ds.BitsStored = 12
    ds.HighBit = 11
    ds.PixelRepresentation = 0
    if window is not None:
        ds.WindowCenter, ds.WindowWidth = window
    if pixels is not None:
        ds.Rows, ds.Columns = pixels.shape
        ds.PixelData = pixels.astype(np.uint16).tobytes()
    else:
        ds.Rows, ds.Columns = 8, 8
    ds.save_as(path, enforce_file_format=True)
    return path


@pytest.fixture
def gradient12() -> np.ndarray:
    """A 12-bit horizontal ramp 0..4095 over 16x32 pixels."""
    return np.tile(np.linspace(0, 4095, 32).round().astype(np.uint16), (16, 1))


@pytest.fixture
def grey8() -> np.ndarray:
    rng = np.random.default_rng(0)
    return rng.integers(0, 256, size=(20, 24), dtype=np.uint8)


@pytest.fixture
def dicom_writer():
    """:func:`write_dicom` (fixtures are importable, conftest modules are not)."""
    return write_dicom


@pytest.fixture
def write_image(tmp_path):
    """Save ``array`` (or a PIL image) as ``tmp_path/name``."""

    def _write(name: str, image) -> Path:
        path = tmp_path / name
        if isinstance(image, np.ndarray):
            image = Image.fromarray(image)
        image.save(path)
        return path

    return _write
