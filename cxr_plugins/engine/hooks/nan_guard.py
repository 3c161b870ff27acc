"""Stop training on a non-finite loss, before the bad step updates the weights.

mmengine's hooks run after ``optim_wrapper.update_params``, when a NaN/Inf
loss has already been back-propagated into the weights and the optimizer
moments. :class:`NaNGuardHook` therefore wraps the model's ``parse_losses``
(called by ``train_step`` of the model and of mmengine's DDP wrapper right
before ``update_params``): when the summed loss is not finite on any rank, it
saves a checkpoint of the last good state (weights, optimizer, schedulers as
of the end of the previous iteration; the checkpoint's ``meta.iter`` is the
number of completed iterations, so ``--resume`` from it repeats the bad step)
and raises :class:`NonFiniteLossError` naming the iteration, every loss term
and the batch's image files. Buffers that the bad forward pass itself updated
(BatchNorm running statistics) are saved as they are after that pass.
"""

from __future__ import annotations

import functools
import os.path as osp
from collections.abc import Callable

import torch
from mmengine.dist import all_reduce, barrier, get_rank
from mmengine.hooks import Hook
from mmengine.model import is_model_wrapper
from mmpretrain.registry import HOOKS


class NonFiniteLossError(RuntimeError):
    """The training loss became NaN or infinite."""


def batch_file_names(data_batch: dict | None) -> list[str]:
    """``img_path`` of every sample in a batch (``'?'`` where a sample has none)."""
    if not isinstance(data_batch, dict):
        return []
    names = []
    for sample in data_batch.get('data_samples') or []:
        metainfo = getattr(sample, 'metainfo', None) or {}
        names.append(str(metainfo.get('img_path', '?')))
    return names


def all_ranks_finite(loss: torch.Tensor) -> bool:
    """Whether ``loss`` is finite on every rank (one all-reduce when distributed)."""
    bad = (~torch.isfinite(loss.detach())).any().to(torch.float32).reshape(1)
    all_reduce(bad, op='sum')
    return bad.item() == 0


def format_loss_terms(log_vars: dict) -> str:
    """``name=value`` for every logged term, e.g. ``loss=nan, loss_cls=nan``."""
    terms = []
    for name, value in log_vars.items():
        number = value.item() if isinstance(value, torch.Tensor) else value
        terms.append(
            f'{name}={number:.6g}'
            if isinstance(number, float | int)
            else f'{name}={number}'
        )
    return ', '.join(terms)


@HOOKS.register_module()
class NaNGuardHook(Hook):
    """Halt on a NaN/Inf loss after saving the last good state.

    Add to a config with ``custom_hooks = [dict(type='NaNGuardHook')]``.

    Args:
        checkpoint_template: File name (in the work dir) of the last-good
            checkpoint, formatted with ``iter`` (completed iterations).
    """

    priority = 'VERY_HIGH'

    def __init__(self, checkpoint_template: str = 'last_good_iter_{iter}.pth') -> None:
        self.checkpoint_template = checkpoint_template
        self._batch_files: list[str] = []

    def before_train(self, runner) -> None:
        model = runner.model.module if is_model_wrapper(runner.model) else runner.model
        original: Callable = model.parse_losses
        if getattr(original, '_nan_guarded', False):
            return

        @functools.wraps(original)
        def guarded_parse_losses(losses: dict):
            loss, log_vars = original(losses)
            if not all_ranks_finite(loss):
                self._stop(runner, loss, log_vars)
            return loss, log_vars

        guarded_parse_losses._nan_guarded = True
        model.parse_losses = guarded_parse_losses

    def before_train_iter(
        self, runner, batch_idx: int, data_batch: dict | None = None
    ) -> None:
        self._batch_files = batch_file_names(data_batch)

    def _stop(self, runner, loss: torch.Tensor, log_vars: dict) -> None:
        filename = self.checkpoint_template.format(iter=runner.iter)
        runner.save_checkpoint(
            runner.work_dir,
            filename,
            by_epoch=False,
            meta=dict(epoch=runner.epoch, iter=runner.iter),
        )
        barrier()
        raise NonFiniteLossError(
            f'Non-finite loss at iteration {runner.iter + 1} '
            f'(epoch {runner.epoch + 1}); rank {get_rank()} terms: '
            f'{format_loss_terms(log_vars)}. Batch files: '
            f'{self._batch_files or "unknown"}. The state before this step was '
            f'saved to {osp.join(runner.work_dir, filename)}; the weights were '
            'not updated.'
        )
