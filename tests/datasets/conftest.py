"""Synthetic radiograph files for the loader tests (written in tmp_path)."""

from pathlib import Path

import numpy as np
import pytest
from cxr_test_utils import write_dicom
from PIL import Image


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
