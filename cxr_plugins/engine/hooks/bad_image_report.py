"""Report the images that ``skip_bad_images`` replaced during an epoch."""

from __future__ import annotations

import logging

from mmengine.hooks import Hook
from mmpretrain.registry import HOOKS


def _leaf_datasets(dataset) -> list:
    """The datasets inside mmengine wrappers (Concat/Repeat/ClassBalanced)."""
    if hasattr(dataset, 'datasets'):
        return [leaf for inner in dataset.datasets for leaf in _leaf_datasets(inner)]
    if hasattr(dataset, 'dataset'):
        return _leaf_datasets(dataset.dataset)
    return [dataset]


@HOOKS.register_module()
class CXRBadImageReportHook(Hook):
    """After each training epoch, log how many (and which) images were skipped.

    Works with :class:`~cxr_plugins.datasets.CXRBaseDataset` built with
    ``skip_bad_images=True``; the list is cleared after each report.

    Args:
        max_listed: List at most this many paths per epoch.
    """

    priority = 'LOW'

    def __init__(self, max_listed: int = 100):
        self.max_listed = max_listed

    def after_train_epoch(self, runner) -> None:
        for dataset in _leaf_datasets(runner.train_dataloader.dataset):
            if not hasattr(dataset, 'bad_images'):
                continue
            bad = dataset.bad_images()
            dataset.clear_bad_images()
            if not bad:
                continue
            listed = '\n'.join(
                f'  {path}: {reason}' for path, reason in bad[: self.max_listed]
            )
            more = len(bad) - self.max_listed
            runner.logger.log(
                logging.WARNING,
                f'epoch {runner.epoch}: {len(bad)} unreadable image(s) skipped in '
                f'{dataset.ann_file}:\n{listed}'
                + (f'\n  ... and {more} more' if more > 0 else ''),
            )
