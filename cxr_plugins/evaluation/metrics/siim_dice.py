"""SIIM-ACR per-image Dice (mmseg ``METRICS``).

The SIIM-ACR challenge metric, as MRM (Zhou et al., ICLR 2023,
https://arxiv.org/abs/2301.13155) reports it: the Dice of the foreground of
each image, where an image with an empty ground truth scores 1 if the
prediction is empty too and 0 otherwise, averaged over images. MRM's
``medDice`` logs half of this value (it averages ``[0, d]``); we report ``d``.
mmseg's ``IoUMetric`` gives the dataset-level mDice/mIoU used by EVA-X.
"""

from __future__ import annotations

import csv
from collections.abc import Sequence
from pathlib import Path

import cv2
import numpy as np
import torch
from mmengine.evaluator import BaseMetric
from mmseg.registry import METRICS


def per_image_dice(
    prediction: torch.Tensor,
    ground_truth: torch.Tensor,
    foreground: int = 1,
    ignore_index: int = 255,
) -> float:
    """Dice of one image's foreground with the SIIM empty-mask rule.

    Args:
        prediction: ``(H, W)`` predicted class indices.
        ground_truth: ``(H, W)`` true class indices.
        foreground: Index of the foreground class.
        ignore_index: Ground-truth value of pixels left out.

    Returns:
        ``2|P & G| / (|P| + |G|)``; 1.0 when both are empty, 0.0 when only the
        ground truth is empty.
    """
    valid = ground_truth != ignore_index
    predicted = (prediction == foreground) & valid
    true = (ground_truth == foreground) & valid
    total = int(predicted.sum()) + int(true.sum())
    if total == 0:
        return 1.0
    return 2.0 * int((predicted & true).sum()) / total


def overlay(
    image: np.ndarray, prediction: np.ndarray, ground_truth: np.ndarray
) -> np.ndarray:
    """Draw ground-truth (green) and predicted (red) outlines on an image.

    Args:
        image: ``(H, W)`` or ``(H, W, 3)`` uint8 image (BGR).
        prediction: ``(H, W)`` 0/1 mask.
        ground_truth: ``(H, W)`` 0/1 mask.

    Returns:
        ``(H, W, 3)`` uint8 BGR picture.
    """
    canvas = image if image.ndim == 3 else cv2.cvtColor(image, cv2.COLOR_GRAY2BGR)
    canvas = np.ascontiguousarray(canvas, dtype=np.uint8).copy()
    thickness = max(1, round(max(canvas.shape[:2]) / 256))
    for mask, colour in ((ground_truth, (0, 255, 0)), (prediction, (0, 0, 255))):
        contours, _ = cv2.findContours(
            mask.astype(np.uint8), cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_NONE
        )
        cv2.drawContours(canvas, contours, -1, colour, thickness)
    return canvas


@METRICS.register_module()
class SIIMDice(BaseMetric):
    """Per-image foreground Dice with the empty-mask rule, averaged.

    Reports ``Dice`` (all images, in %), ``Dice_positive`` / ``Dice_negative``
    (images with / without foreground in the ground truth) and the counts.

    Args:
        foreground: Index of the foreground class.
        ignore_index: Ground-truth value of ignored pixels.
        out_dir: If set, ``per_image_dice.csv`` (image, dice, gt/pred pixel
            counts) is written there, and with ``save_overlays`` one PNG per
            image with ground truth (green) and prediction (red) outlines.
        save_overlays: Write the overlay PNGs into ``out_dir/overlays``.
        collect_device: See ``BaseMetric``.
        prefix: See ``BaseMetric``.
    """

    default_prefix = ''

    def __init__(
        self,
        foreground: int = 1,
        ignore_index: int = 255,
        out_dir: str | None = None,
        save_overlays: bool = False,
        collect_device: str = 'cpu',
        prefix: str | None = None,
    ) -> None:
        super().__init__(collect_device=collect_device, prefix=prefix)
        if save_overlays and out_dir is None:
            raise ValueError('SIIMDice: save_overlays=True needs out_dir')
        self.foreground = foreground
        self.ignore_index = ignore_index
        self.out_dir = out_dir
        self.save_overlays = save_overlays

    def process(self, data_batch: dict, data_samples: Sequence[dict]) -> None:
        """Score each image of the batch (and draw it if asked)."""
        for sample in data_samples:
            prediction = sample['pred_sem_seg']['data'].squeeze(0).cpu()
            ground_truth = (
                sample['gt_sem_seg']['data'].squeeze(0).cpu().to(prediction.dtype)
            )
            dice = per_image_dice(
                prediction, ground_truth, self.foreground, self.ignore_index
            )
            valid = ground_truth != self.ignore_index
            self.results.append(
                dict(
                    image=sample['img_path'],
                    dice=dice,
                    gt_pixels=int(((ground_truth == self.foreground) & valid).sum()),
                    pred_pixels=int(((prediction == self.foreground) & valid).sum()),
                )
            )
            if self.save_overlays:
                self._save_overlay(sample['img_path'], prediction, ground_truth)

    def compute_metrics(self, results: list[dict]) -> dict[str, float]:
        """Average the per-image scores; write the CSV when ``out_dir`` is set."""
        dice = np.array([r['dice'] for r in results])
        positive = np.array([r['gt_pixels'] > 0 for r in results])
        if self.out_dir is not None:
            self._write_csv(results)
        metrics = {
            'Dice': 100.0 * float(dice.mean()),
            'n_positive': int(positive.sum()),
            'n_negative': int((~positive).sum()),
        }
        if positive.any():
            metrics['Dice_positive'] = 100.0 * float(dice[positive].mean())
        if (~positive).any():
            metrics['Dice_negative'] = 100.0 * float(dice[~positive].mean())
        return metrics

    def _write_csv(self, results: list[dict]) -> None:
        out_dir = Path(self.out_dir)
        out_dir.mkdir(parents=True, exist_ok=True)
        with open(out_dir / 'per_image_dice.csv', 'w', newline='') as handle:
            writer = csv.DictWriter(
                handle, fieldnames=['image', 'dice', 'gt_pixels', 'pred_pixels']
            )
            writer.writeheader()
            writer.writerows(results)

    def _save_overlay(
        self, img_path: str, prediction: torch.Tensor, ground_truth: torch.Tensor
    ) -> None:
        image = cv2.imread(img_path, cv2.IMREAD_COLOR)
        if image is None:
            raise FileNotFoundError(f'SIIMDice: cannot read image {img_path}')
        size = (prediction.shape[1], prediction.shape[0])
        if image.shape[:2] != prediction.shape:
            image = cv2.resize(image, size, interpolation=cv2.INTER_AREA)
        picture = overlay(
            image,
            (prediction == self.foreground).numpy(),
            (ground_truth == self.foreground).numpy(),
        )
        folder = Path(self.out_dir) / 'overlays'
        folder.mkdir(parents=True, exist_ok=True)
        cv2.imwrite(str(folder / f'{Path(img_path).stem}.png'), picture)
