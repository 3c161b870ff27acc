"""Segmentation transforms (mmseg ``TRANSFORMS``).

Images are loaded with mmseg's own ``LoadImageFromFile`` (a grey JPEG/PNG is
read as 3 identical channels, which is what ViT/CNN encoders with 3 input
channels expect); only mask binarisation needs a transform of ours.
"""

from __future__ import annotations

import numpy as np
from mmseg.datasets.transforms import LoadAnnotations
from mmseg.registry import TRANSFORMS


@TRANSFORMS.register_module()
class LoadBinaryMask(LoadAnnotations):
    """mmseg ``LoadAnnotations`` followed by ``mask >= threshold`` -> 0/1.

    Turns 0/255 (or 0/1) masks into class indices 0/1. The ignore value
    (255 by default) can therefore not be expressed in such masks.

    Args:
        threshold: Smallest pixel value counted as foreground.
        **kwargs: Passed to ``LoadAnnotations``.
    """

    def __init__(self, threshold: int = 1, **kwargs) -> None:
        super().__init__(**kwargs)
        self.threshold = threshold

    def _load_seg_map(self, results: dict) -> None:
        super()._load_seg_map(results)
        results['gt_seg_map'] = (results['gt_seg_map'] >= self.threshold).astype(
            np.uint8
        )

    def __repr__(self) -> str:
        return f'{super().__repr__()[:-1]}, threshold={self.threshold})'
