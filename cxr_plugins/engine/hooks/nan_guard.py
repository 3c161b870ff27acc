"""Stop training on a diverging step and keep the last state that was still good.

mmengine's hooks run after ``optim_wrapper.update_params``, when a NaN/Inf
loss has already been back-propagated into the weights and the optimizer
moments. :class:`NaNGuardHook` checks every step at three points:

1. the summed loss (it wraps the model's ``parse_losses``, called by
   ``train_step`` right before ``update_params``): not finite, or above
   ``explosion_factor`` x the running median of the last losses;
2. the gradient norm (it wraps ``optim_wrapper.step``): not finite, so the
   step is never taken (skipped under AMP, whose loss scaler expects
   overflowing gradients);
3. the parameters after the step: not finite.

A loss is computed from the state the previous step left, so a bad loss
also condemns that state (with a huge learning rate, step 1 leaves finite
weights of magnitude 1e30 and only the loss of step 2 overflows). The hook
therefore keeps a copy (on the same device) of the state before each step
and calls it *verified* once its own forward pass gave a good loss. On a
fault it puts the last verified state (weights, optimizer, schedulers) back
into the model, saves it (``meta.iter`` is the number of iterations it had
completed, so ``--resume`` from it continues there) and raises
:class:`NonFiniteLossError` naming the iteration, the check that failed,
every loss term and the batch's image files. Buffers that a bad forward pass
updated (BatchNorm running statistics) are restored with the weights. The
copy costs one more model + optimizer state of device memory (two while a
new copy awaits its check) and a device-to-device copy every
``snapshot_interval`` iterations. Measured on a 2-core CPU
(``python -m benchmarks.bench_nan_guard``, 2026-12-04, quiet machine): the
snapshot and the checks together cost 4-5 % of a CXRViT-S/B fine-tuning step
(ViT-B: 0.08 s snapshot + 0.13 s checks vs a 5.2 s step), and
``snapshot_interval=10`` would save only 2 points of that (the checks run every
step), so every step is snapshotted by default.
"""

from __future__ import annotations

import collections
import copy
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


def _detached_copy(value):
    """A detached copy (same device) of every tensor in a nested state dict.

    On the tensors' own device, so a GPU run pays a device-to-device copy per
    step instead of a transfer to the host.
    """
    if isinstance(value, torch.Tensor):
        return value.detach().clone()
    if isinstance(value, dict):
        return type(value)((key, _detached_copy(item)) for key, item in value.items())
    if isinstance(value, list | tuple):
        return type(value)(_detached_copy(item) for item in value)
    return copy.deepcopy(value)


def _schedulers(runner) -> list:
    schedulers = runner.param_schedulers or []
    if isinstance(schedulers, dict):
        return [item for group in schedulers.values() for item in group]
    return list(schedulers)


def any_rank_true(flag: bool) -> bool:
    """Whether ``flag`` holds on any rank (one all-reduce when distributed)."""
    value = torch.tensor([float(flag)])
    all_reduce(value, op='sum')
    return value.item() > 0


def gradient_norm(parameters) -> torch.Tensor:
    """L2 norm of all gradients (0 when there are none), on the gradients'
    device: torch's fused total norm, so a GPU step synchronises once (when
    the caller reads it), not once per parameter."""
    grads = [p.grad.detach() for p in parameters if p.grad is not None]
    if not grads:
        return torch.zeros(())
    return torch.nn.utils.get_total_norm(grads)


def all_parameters_finite(module: torch.nn.Module) -> bool:
    """Whether every parameter of ``module`` is finite (one device sync per
    device holding parameters, not one per parameter)."""
    flags = [torch.isfinite(p.detach()).all() for p in module.parameters()]
    devices = {flag.device for flag in flags}
    return all(
        bool(torch.stack([f for f in flags if f.device == device]).all())
        for device in devices
    )


@HOOKS.register_module()
class NaNGuardHook(Hook):
    """Halt on a diverging step after saving the last verified good state.

    Add to a config with ``custom_hooks = [dict(type='NaNGuardHook')]``.

    Args:
        checkpoint_template: File name (in the work dir) of the last-good
            checkpoint, formatted with ``iter`` (completed iterations).
        explosion_factor: Also stop when the loss exceeds this multiple of
            the running median of the last ``explosion_window`` losses
            (``None``: only non-finite values stop).
        explosion_window: Number of recent losses in the median.
        min_history: Losses needed before the explosion check starts.
        snapshot_interval: Copy the state before every n-th step (1: every
            step; larger saves time, the saved state is then older).
    """

    priority = 'VERY_HIGH'

    def __init__(
        self,
        checkpoint_template: str = 'last_good_iter_{iter}.pth',
        explosion_factor: float | None = None,
        explosion_window: int = 50,
        min_history: int = 10,
        snapshot_interval: int = 1,
    ) -> None:
        if explosion_factor is not None and explosion_factor <= 1:
            raise ValueError(f'explosion_factor must be > 1, got {explosion_factor}')
        if snapshot_interval < 1:
            raise ValueError(f'snapshot_interval must be >= 1, got {snapshot_interval}')
        self.checkpoint_template = checkpoint_template
        self.explosion_factor = explosion_factor
        self.min_history = min_history
        self.snapshot_interval = snapshot_interval
        self._losses: collections.deque = collections.deque(maxlen=explosion_window)
        self._batch_files: list[str] = []
        self._candidate: dict | None = None
        self._verified: dict | None = None

    def _model(self, runner) -> torch.nn.Module:
        return runner.model.module if is_model_wrapper(runner.model) else runner.model

    def before_train(self, runner) -> None:
        model = self._model(runner)
        original: Callable = model.parse_losses
        if not getattr(original, '_nan_guarded', False):

            @functools.wraps(original)
            def guarded_parse_losses(losses: dict):
                loss, log_vars = original(losses)
                self._check_loss(runner, loss, log_vars)
                return loss, log_vars

            guarded_parse_losses._nan_guarded = True
            model.parse_losses = guarded_parse_losses
        from mmengine.optim import AmpOptimWrapper

        wrapper = runner.optim_wrapper
        if isinstance(wrapper, AmpOptimWrapper):
            runner.logger.info(
                'NaNGuardHook: gradient-norm check off under AMP (the loss '
                'scaler skips overflowing steps itself).'
            )
        elif not getattr(wrapper.step, '_nan_guarded', False):
            original_step = wrapper.step

            @functools.wraps(original_step)
            def guarded_step(*args, **kwargs):
                norm = gradient_norm(model.parameters())
                if any_rank_true(not bool(torch.isfinite(norm))):
                    self._stop(runner, f'gradient norm is {norm.item()}', trusted=True)
                return original_step(*args, **kwargs)

            guarded_step._nan_guarded = True
            wrapper.step = guarded_step

    def before_train_iter(
        self, runner, batch_idx: int, data_batch: dict | None = None
    ) -> None:
        self._batch_files = batch_file_names(data_batch)
        if runner.iter % self.snapshot_interval == 0 or self._verified is None:
            self._candidate = self._snapshot(runner)

    def after_train_iter(
        self, runner, batch_idx: int, data_batch=None, outputs=None
    ) -> None:
        if any_rank_true(not all_parameters_finite(self._model(runner))):
            self._stop(runner, 'parameters are not finite after the step')

    def _check_loss(self, runner, loss: torch.Tensor, log_vars: dict) -> None:
        value = loss.detach().float()
        problem = None
        if not all_ranks_finite(loss):
            problem = 'loss is not finite'
        elif self.explosion_factor is not None:
            total = value.reshape(1).clone()
            all_reduce(total, op='mean')
            history = sorted(self._losses)
            median = history[len(history) // 2] if history else None
            exploded = (
                len(history) >= self.min_history
                and total.item() > self.explosion_factor * median
            )
            if exploded:
                problem = (
                    f'loss {total.item():.6g} > {self.explosion_factor:g} x the '
                    f'median {median:.6g} of the last {len(history)} losses'
                )
            else:
                self._losses.append(total.item())
        if problem is not None:
            self._stop(runner, f'{problem} ({format_loss_terms(log_vars)})')
        if self._candidate is not None:  # this state's forward pass was good
            self._verified, self._candidate = self._candidate, None

    def _snapshot(self, runner) -> dict:
        return dict(
            model=_detached_copy(self._model(runner).state_dict()),
            optimizer=_detached_copy(runner.optim_wrapper.state_dict()),
            schedulers=[_detached_copy(s.state_dict()) for s in _schedulers(runner)],
            iter=runner.iter,
            epoch=runner.epoch,
        )

    def _restore(self, runner, snapshot: dict) -> None:
        self._model(runner).load_state_dict(snapshot['model'])
        runner.optim_wrapper.load_state_dict(snapshot['optimizer'])
        for scheduler, state in zip(
            _schedulers(runner), snapshot['schedulers'], strict=True
        ):
            scheduler.load_state_dict(state)

    def _stop(self, runner, problem: str, trusted: bool = False) -> None:
        """Save the last good state and raise.

        Args:
            problem: What went wrong.
            trusted: The state before this step is good (its own forward
                pass gave a good loss), so it is what is kept.
        """
        if trusted and self._candidate is not None:
            self._verified, self._candidate = self._candidate, None
        good = self._verified
        if good is None:
            saved = 'No state before it had a good forward pass, nothing was saved.'
        else:
            self._restore(runner, good)
            filename = self.checkpoint_template.format(iter=good['iter'])
            runner.save_checkpoint(
                runner.work_dir,
                filename,
                by_epoch=False,
                meta=dict(epoch=good['epoch'], iter=good['iter']),
            )
            saved = (
                f'The last state whose forward pass gave a good loss (after '
                f'{good["iter"]} iterations) is back in the model and saved to '
                f'{osp.join(runner.work_dir, filename)}.'
            )
        barrier()
        raise NonFiniteLossError(
            f'Training diverged at iteration {runner.iter + 1} '
            f'(epoch {runner.epoch + 1}) on rank {get_rank()}: {problem}. '
            f'Batch files: {self._batch_files or "unknown"}. {saved}'
        )
