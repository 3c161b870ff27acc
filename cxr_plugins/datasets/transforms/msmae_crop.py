"""Random resized crop that records its box, for MSMAE's attention maps.

MSMAE (arXiv 2305.05871) crops each image's stored CLS-attention map like the
image itself; the crop box is the one fact mmpretrain's transform does not
expose, so this subclass only adds it.
"""

from __future__ import annotations

import mmcv
import numpy as np
from mmpretrain.datasets.transforms import RandomResizedCrop
from mmpretrain.registry import TRANSFORMS


@TRANSFORMS.register_module()
class MSMAERandomResizedCrop(RandomResizedCrop):
    """mmpretrain ``RandomResizedCrop`` that records its crop box.

    Adds ``results['crop_box']`` = ``(top, left, bottom, right)`` as fractions
    of the pre-crop image size, which :class:`MSMAE` uses to crop the stored
    attention map like the image. Put ``RandomFlip`` *after* this transform and
    add ``'crop_box'``, ``'flip'`` to ``PackInputs.meta_keys``.
    """

    def transform(self, results: dict) -> dict:
        """Crop, resize and record the normalised crop box."""
        img = results['img']
        height, width = img.shape[:2]
        top, left, crop_h, crop_w = self.rand_crop_params(img)
        crop = img[top : top + crop_h, left : left + crop_w]
        results['img'] = self._resize(crop)
        results['img_shape'] = results['img'].shape
        results['crop_box'] = np.array(
            [
                top / height,
                left / width,
                (top + crop_h) / height,
                (left + crop_w) / width,
            ],
            dtype=np.float32,
        )
        return results

    def _resize(self, img: np.ndarray) -> np.ndarray:
        return mmcv.imresize(
            img,
            tuple(self.scale[::-1]),
            interpolation=self.interpolation,
            backend=self.backend,
        )
