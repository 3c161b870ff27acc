"""SIIM-ACR per-image Dice (mmseg ``METRICS``), the headline segmentation figure.

The SIIM-ACR challenge metric, as MRM (Zhou et al., ICLR 2023,
https://arxiv.org/abs/2301.13155) reports it: the Dice of the foreground of
each image, where an image with an empty ground truth scores 1 if the
prediction is empty too and 0 otherwise, averaged over images. MRM's
``medDice`` logs half of this value (it averages ``[0, d]``); we report ``d``.

Three Dice figures are in circulation and they are not interchangeable, so
the log names each:

* ``Dice`` (headline): per-image Dice with the empty-mask rule, averaged over
  images: SIIM-ACR's rule and what MRM reports (its ``medDice`` x 2);
* ``Dice_pixel_pooled``: foreground Dice of all pixels pooled over the data
  set (``2 sum|P & G| / (sum|P| + sum|G|)``), which large masks dominate; the
  same number as the foreground row of mmseg's ``IoUMetric`` table;
* ``mDice_with_background``: the mean of the pooled foreground and background
  Dice, which is what mmseg's ``IoUMetric(iou_metrics=['mDice'])`` reports
  as ``mDice`` for two classes and what EVA-X (arXiv 2405.05237) reports for
  SIIM; the background class inflates it.
"""

from __future__ import annotations

import csv
import os
from collections.abc import Sequence
from pathlib import Path

import cv2
import numpy as np
import torch
from mmengine.evaluator import BaseMetric
from mmengine.logging import MMLogger
from mmseg.registry import METRICS

from cxr_plugins.visualization.overlays import (
    DEFAULT_MAX_SIDE,
    bounded_size,
    read_grey_bounded,
    shrink_mask,
    side_by_side,
)

#: Masks kept per image for the report's best/worst overlays, longer side.
REPORT_MASK_SIDE = 256


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


def pooled_dice(intersection: float, predicted: float, true: float) -> float:
    """Dice of pixel counts pooled over images (``NaN`` if both are empty)."""
    total = predicted + true
    return 2.0 * intersection / total if total else float('nan')


def unpack_mask(bits: np.ndarray, shape: tuple[int, int]) -> np.ndarray:
    """Inverse of ``np.packbits`` for a ``shape`` 0/1 mask."""
    return np.unpackbits(bits)[: shape[0] * shape[1]].reshape(shape)


@METRICS.register_module()
class SIIMDice(BaseMetric):
    """Per-image foreground Dice with the empty-mask rule, averaged (headline).

    Reports ``Dice`` (all images, in %), ``Dice_positive`` / ``Dice_negative``
    (images with / without foreground in the ground truth), the counts, and,
    labelled as such, ``Dice_pixel_pooled`` and ``mDice_with_background``
    (see the module docstring).

    Args:
        foreground: Index of the foreground class.
        ignore_index: Ground-truth value of ignored pixels.
        out_dir: If set, ``per_image_dice.csv`` (image, dice, gt/pred pixel
            counts) is written there.
        show_dir: If set, one side-by-side overlay PNG per image (ground truth
            | prediction on the radiograph, Dice in the title) is written
            there, drawn at most ``overlay_max_side`` pixels per panel.
        report_dir: If set, the segmentation section of the HTML report (Dice
            distribution, best and worst images as overlays) is written there.
        overlay_max_side: Longest side of each overlay panel.
        report_examples: Number of best and of worst images in the report.
        collect_device: See ``BaseMetric``.
        prefix: See ``BaseMetric``.
    """

    default_prefix = ''

    def __init__(
        self,
        foreground: int = 1,
        ignore_index: int = 255,
        out_dir: str | None = None,
        show_dir: str | None = None,
        report_dir: str | None = None,
        overlay_max_side: int = DEFAULT_MAX_SIDE,
        report_examples: int = 3,
        collect_device: str = 'cpu',
        prefix: str | None = None,
    ) -> None:
        super().__init__(collect_device=collect_device, prefix=prefix)
        self.foreground = foreground
        self.ignore_index = ignore_index
        self.out_dir = out_dir
        self.show_dir = show_dir
        self.report_dir = report_dir
        self.overlay_max_side = overlay_max_side
        self.report_examples = report_examples

    def process(self, data_batch: dict, data_samples: Sequence[dict]) -> None:
        """Score each image of the batch (and draw it if asked)."""
        for sample in data_samples:
            prediction = sample['pred_sem_seg']['data'].squeeze(0).cpu()
            ground_truth = (
                sample['gt_sem_seg']['data'].squeeze(0).cpu().to(prediction.dtype)
            )
            valid = ground_truth != self.ignore_index
            predicted = (prediction == self.foreground) & valid
            true = (ground_truth == self.foreground) & valid
            dice = per_image_dice(
                prediction, ground_truth, self.foreground, self.ignore_index
            )
            result = dict(
                image=sample['img_path'],
                dice=dice,
                gt_pixels=int(true.sum()),
                pred_pixels=int(predicted.sum()),
                intersection=int((predicted & true).sum()),
                valid_pixels=int(valid.sum()),
            )
            if self.show_dir:
                self._save_overlay(sample['img_path'], predicted, true, dice)
            if self.report_dir:
                size = bounded_size(tuple(true.shape), REPORT_MASK_SIDE)
                result['report_masks'] = (
                    size,
                    np.packbits(shrink_mask(true.numpy(), size)),
                    np.packbits(shrink_mask(predicted.numpy(), size)),
                )
            self.results.append(result)

    def compute_metrics(self, results: list[dict]) -> dict[str, float]:
        """Average the per-image scores; pooled figures labelled as such."""
        dice = np.array([r['dice'] for r in results])
        positive = np.array([r['gt_pixels'] > 0 for r in results])
        if self.out_dir is not None:
            self._write_csv(results)
        sums = {
            key: float(sum(r[key] for r in results))
            for key in ('gt_pixels', 'pred_pixels', 'intersection', 'valid_pixels')
        }
        foreground = pooled_dice(
            sums['intersection'], sums['pred_pixels'], sums['gt_pixels']
        )
        # Background pixels: valid pixels outside the mask (pooled likewise).
        background_intersection = (
            sums['valid_pixels']
            - sums['gt_pixels']
            - sums['pred_pixels']
            + sums['intersection']
        )
        background = pooled_dice(
            background_intersection,
            sums['valid_pixels'] - sums['pred_pixels'],
            sums['valid_pixels'] - sums['gt_pixels'],
        )
        metrics = {
            'Dice': 100.0 * float(dice.mean()),
            'n_positive': int(positive.sum()),
            'n_negative': int((~positive).sum()),
            'Dice_pixel_pooled': 100.0 * foreground,
            'mDice_with_background': 100.0
            * float(np.nanmean([foreground, background])),
        }
        if positive.any():
            metrics['Dice_positive'] = 100.0 * float(dice[positive].mean())
        if (~positive).any():
            metrics['Dice_negative'] = 100.0 * float(dice[~positive].mean())
        MMLogger.get_current_instance().info(
            f'SIIMDice: headline Dice (per-image, SIIM empty-mask rule, as MRM '
            f'reports) {metrics["Dice"]:.2f} over {len(results)} images; not the '
            f'headline: pixel-pooled foreground Dice {metrics["Dice_pixel_pooled"]:.2f}'
            f' (= IoUMetric foreground row), mean of foreground and background Dice '
            f'{metrics["mDice_with_background"]:.2f} (= IoUMetric mDice, as EVA-X '
            'reports)'
        )
        if self.report_dir:
            self._write_report(results, metrics)
        return metrics

    def _write_csv(self, results: list[dict]) -> None:
        out_dir = Path(self.out_dir)
        out_dir.mkdir(parents=True, exist_ok=True)
        path = out_dir / 'per_image_dice.csv'
        temporary = path.with_name(f'.{path.name}.tmp')
        fields = ['image', 'dice', 'gt_pixels', 'pred_pixels']
        with open(temporary, 'w', newline='') as handle:
            writer = csv.DictWriter(handle, fieldnames=fields, extrasaction='ignore')
            writer.writeheader()
            writer.writerows(results)
        os.replace(temporary, path)

    def _save_overlay(
        self, img_path: str, predicted: torch.Tensor, true: torch.Tensor, dice: float
    ) -> None:
        image = read_grey_bounded(img_path, self.overlay_max_side)
        picture = side_by_side(
            image,
            true.numpy(),
            predicted.numpy(),
            f'{Path(img_path).name}  Dice {dice:.3f}',
            self.overlay_max_side,
        )
        folder = Path(self.show_dir)
        folder.mkdir(parents=True, exist_ok=True)
        cv2.imwrite(str(folder / f'{Path(img_path).stem}.png'), picture)

    def _write_report(self, results: list[dict], metrics: dict) -> None:
        from cxr_plugins.visualization.report import segmentation_section, write_section

        order = np.argsort([r['dice'] for r in results], kind='stable')
        count = min(self.report_examples, len(results))
        picks = [('worst', i) for i in order[:count]]
        picks += [('best', i) for i in order[::-1][:count]]
        examples = []
        for kind, index in picks:
            result = results[index]
            size, true, predicted = result['report_masks']
            shape = (size[1], size[0])
            picture = side_by_side(
                read_grey_bounded(result['image'], REPORT_MASK_SIDE),
                unpack_mask(true, shape),
                unpack_mask(predicted, shape),
                f'{Path(result["image"]).name}  Dice {result["dice"]:.3f}',
                REPORT_MASK_SIDE,
            )
            examples.append((kind, picture))
        write_section(
            self.report_dir,
            'SIIMDice',
            segmentation_section(
                np.array([r['dice'] for r in results]), metrics, examples
            ),
        )
