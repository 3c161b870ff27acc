"""Helpers to run the repository's command-line tools in a subprocess."""

import importlib.util
import os
import socket
import subprocess
import sys
from pathlib import Path

import numpy as np

REPO_ROOT = Path(__file__).resolve().parents[1]


def free_port() -> int:
    """A TCP port nobody listens on right now."""
    with socket.socket() as sock:
        sock.bind(('127.0.0.1', 0))
        return sock.getsockname()[1]


def run_tool(
    args: list[str], timeout: float = 600, **env: str
) -> subprocess.CompletedProcess:
    """Run ``args`` from the repository root with this interpreter as PYTHON."""
    environment = dict(os.environ, PYTHON=sys.executable, OMP_NUM_THREADS='1', **env)
    return subprocess.run(
        args,
        cwd=REPO_ROOT,
        env=environment,
        text=True,
        capture_output=True,
        timeout=timeout,
    )


def output_of(result: subprocess.CompletedProcess) -> str:
    """stdout and stderr together, for assertion messages."""
    return result.stdout + '\n' + result.stderr


def dicom_dataset(
    pixels: np.ndarray | None,
    photometric: str = 'MONOCHROME2',
    window: tuple[float, float] | None = None,
    patient_id: str = 'synthetic',
):
    """A minimal uncompressed single-frame DICOM dataset (12 bits stored in 16),
    not yet written (tests re-encode or edit it first).

    ``pixels`` are the stored values (``None`` writes no PixelData element).
    """
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
    dataset = Dataset()
    dataset.file_meta = meta
    dataset.SOPClassUID = SecondaryCaptureImageStorage
    dataset.SOPInstanceUID = meta.MediaStorageSOPInstanceUID
    dataset.Modality = 'DX'
    dataset.PatientID = patient_id
    dataset.SamplesPerPixel = 1
    dataset.PhotometricInterpretation = photometric
    dataset.BitsAllocated, dataset.BitsStored, dataset.HighBit = 16, 12, 11
    dataset.PixelRepresentation = 0
    if window is not None:
        dataset.WindowCenter, dataset.WindowWidth = window
    if pixels is not None:
        dataset.Rows, dataset.Columns = pixels.shape
        dataset.PixelData = pixels.astype(np.uint16).tobytes()
    else:
        dataset.Rows, dataset.Columns = 8, 8
    return dataset


def write_dicom(
    path: Path,
    pixels: np.ndarray | None,
    photometric: str = 'MONOCHROME2',
    window: tuple[float, float] | None = None,
    patient_id: str = 'synthetic',
) -> Path:
    """:func:`dicom_dataset` written to ``path``."""
    dicom_dataset(pixels, photometric, window, patient_id).save_as(
        path, enforce_file_format=True
    )
    return path


def load_tool(relative_path: str):
    """Import a script under ``tools/`` (not a package) as a module."""
    path = REPO_ROOT / relative_path
    spec = importlib.util.spec_from_file_location(path.stem, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


# The tiny ViT every model test builds: 2 blocks of 32-d, 2 heads (arch dict
# for CXRViT / MAEViT / MRMViT). Tests that need another size derive from it,
# e.g. ``dict(TINY_VIT_ARCH, embed_dims=64)``.
TINY_VIT_ARCH = dict(embed_dims=32, num_layers=2, num_heads=2, feedforward_channels=64)
