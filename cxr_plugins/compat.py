"""Make the pinned OpenMMLab stack work on torch 2.14 and mmcv-lite.

Applied once by ``import cxr_plugins`` (:func:`apply`), before any mmseg model
is imported. Nothing in site-packages is edited; every fix is a registration or
a narrowly scoped wrapper, and each one says why below.

1. ``mmcv.ops`` stand-in. mmcv-lite ships no compiled ``mmcv._ext``, yet
   ``import mmseg.models`` imports ``mmcv.ops`` unguarded. When ``_ext`` is
   missing we register a module that provides pure-torch versions of the ops our
   configs reach (``point_sample``, ``sigmoid_focal_loss``) and raises a
   ``ModuleNotFoundError`` naming the op for anything else (mmseg already guards
   the optional ops it probes with ``except ModuleNotFoundError``).
2. Safe checkpoint loading. torch >= 2.6 defaults ``torch.load`` to
   ``weights_only=True``, which mmengine 0.10.7 does not expect. We register our
   own local-file loader with mmengine that always uses ``weights_only=True``
   and allow-lists the handful of plain-data globals mmengine writes into its
   own training checkpoints (``HistoryBuffer``, numpy arrays and scalars; the
   buffers are saved without their method table), so resuming works and
   untrusted pickles still cannot run code. Legacy pickles load only after an
   explicit opt-in (:func:`allow_unsafe_load`, the ``--unsafe-load`` flag of the
   tools, or ``CXR_UNSAFE_LOAD=1``). Checkpoints are written atomically (temp
   file + rename, :mod:`cxr_plugins.engine.checkpoint`).
3. CPU multi-process training. mmengine's pytorch launcher calls
   ``torch.cuda.set_device`` unconditionally; we skip it when CUDA is absent so
   ``torchrun`` + gloo runs on CPU (CI tests distributed training that way).
4. Version check: the tested pins are compared with what is installed and a
   warning (never an error) names any difference.
"""

from __future__ import annotations

import importlib
import importlib.metadata
import importlib.util
import os
import pickle
import re
import sys
import types
import warnings
from collections.abc import Callable
from pathlib import Path

import torch
import torch.nn.functional as F

#: The versions this release was tested with (``requirements/*.txt``).
TESTED_VERSIONS = {
    'torch': '2.14.1',
    'mmengine': '0.10.7',
    'mmcv-lite': '2.1.0',
    'mmpretrain': '1.2.0',
    'mmsegmentation': '1.2.2',
}

UNSAFE_LOAD_ENV = 'CXR_UNSAFE_LOAD'
_unsafe_load_allowed = False
_applied = False


class UnsafeCheckpointError(RuntimeError):
    """A checkpoint needs full unpickling, which can execute arbitrary code."""


# --------------------------------------------------------------------------
# 1. pure-torch fallbacks for mmcv ops
# --------------------------------------------------------------------------
def sigmoid_focal_loss(
    logits: torch.Tensor,
    target: torch.Tensor,
    gamma: float = 2.0,
    alpha: float = 0.25,
    weight: torch.Tensor | None = None,
    reduction: str = 'mean',
) -> torch.Tensor:
    """Sigmoid focal loss with class-index targets, as ``mmcv.ops`` computes it.

    Focal loss (Lin et al., ICCV 2017, https://arxiv.org/abs/1708.02002):
    ``-alpha_t (1 - p_t)^gamma log(p_t)`` summed over classes. Written here
    because mmcv-lite ships no compiled op; it matches
    ``mmcv.ops.sigmoid_focal_loss`` including its convention that a target
    equal to ``num_classes`` means "no positive class" (all negatives).

    Args:
        logits: ``(N, C)`` raw scores.
        target: ``(N,)`` class indices in ``[0, C]``.
        gamma: Focusing parameter.
        alpha: Weight of the positive class.
        weight: Optional ``(C,)`` class weight; as in mmcv, every column of
            sample ``n`` is scaled by ``weight[target[n]]``.
        reduction: ``'none'``, ``'mean'`` or ``'sum'``.

    Returns:
        The loss, ``(N, C)`` for ``'none'`` else a scalar.
    """
    num_classes = logits.size(1)
    one_hot = F.one_hot(target.long(), num_classes + 1)[:, :num_classes]
    one_hot = one_hot.to(logits.dtype)
    prob = logits.sigmoid()
    p_t = prob * one_hot + (1 - prob) * (1 - one_hot)
    alpha_t = alpha * one_hot + (1 - alpha) * (1 - one_hot)
    ce = F.binary_cross_entropy_with_logits(logits, one_hot, reduction='none')
    loss = alpha_t * (1 - p_t).pow(gamma) * ce
    if weight is not None:
        # mmcv weighs every column of sample n by the weight of its own class.
        loss = loss * weight[target.long().clamp(max=num_classes - 1)].unsqueeze(1)
    if reduction == 'mean':
        return loss.sum() / logits.size(0)
    if reduction == 'sum':
        return loss.sum()
    return loss


def _make_mmcv_ops_standin() -> types.ModuleType:
    """Build the ``mmcv.ops`` replacement used when ``mmcv._ext`` is missing."""
    import mmcv

    ops_dir = Path(mmcv.__file__).parent / 'ops'
    module = types.ModuleType('mmcv.ops')
    module.__path__ = [str(ops_dir)]
    module.__file__ = str(ops_dir / '__init__.py')
    module.__doc__ = 'cxr_plugins stand-in for mmcv.ops on mmcv-lite.'
    module.sigmoid_focal_loss = sigmoid_focal_loss

    def __getattr__(name: str):
        if name.startswith('__'):
            raise AttributeError(name)
        raise ModuleNotFoundError(
            f'mmcv.ops.{name} needs the compiled mmcv ops, which mmcv-lite does '
            'not ship. cxr_plugins provides pure-torch versions of '
            f'{sorted(_PROVIDED_OPS)} only; use a config that avoids {name} or '
            'install a full mmcv build.',
            name=f'mmcv.ops.{name}',
        )

    module.__getattr__ = __getattr__
    return module


_PROVIDED_OPS = {'point_sample', 'sigmoid_focal_loss'}


def _install_mmcv_ops_standin() -> None:
    if importlib.util.find_spec('mmcv') is None:
        return
    try:
        import mmcv._ext  # noqa: F401

        return
    except ImportError:
        pass
    if (
        isinstance(sys.modules.get('mmcv.ops'), types.ModuleType)
        and getattr(sys.modules['mmcv.ops'], 'sigmoid_focal_loss', None)
        is sigmoid_focal_loss
    ):
        return
    module = _make_mmcv_ops_standin()
    sys.modules['mmcv.ops'] = module
    # mmcv/ops/point_sample.py is pure python; import it through the stand-in.
    point_sample_module = importlib.import_module('mmcv.ops.point_sample')
    module.point_sample = point_sample_module.point_sample
    import mmcv

    mmcv.ops = module


# --------------------------------------------------------------------------
# 2. safe checkpoint loading
# --------------------------------------------------------------------------
def allow_unsafe_load(allowed: bool = True) -> None:
    """Opt in (or out) of full unpickling for trusted legacy checkpoints."""
    global _unsafe_load_allowed
    _unsafe_load_allowed = allowed


def unsafe_load_allowed() -> bool:
    """Whether full unpickling was opted into (flag or environment)."""
    return _unsafe_load_allowed or os.environ.get(UNSAFE_LOAD_ENV) == '1'


def _safe_globals() -> list:
    """Plain-data classes that mmengine writes into training checkpoints."""
    import numpy as np
    from mmengine.logging.history_buffer import HistoryBuffer

    allowed: list = [HistoryBuffer, np.ndarray, np.dtype, np.core.multiarray.scalar]
    allowed.append(np.core.multiarray._reconstruct)
    allowed += [
        type(np.dtype(name))
        for name in (
            'float16',
            'float32',
            'float64',
            'int8',
            'int16',
            'int32',
            'int64',
            'uint8',
            'bool',
        )
    ]
    allowed += [np.float16, np.float32, np.float64, np.int32, np.int64, np.bool_]
    return allowed


def load_checkpoint_file(
    filename: str | os.PathLike, map_location: str | torch.device | None = 'cpu'
) -> dict:
    """Load a checkpoint file without executing code from it.

    Supports ``.safetensors`` and torch pickles. Pickles are read with
    ``weights_only=True`` plus an allow-list of mmengine's plain-data classes,
    so our own training checkpoints resume. A pickle that needs anything else
    (a legacy checkpoint that stored ``argparse.Namespace``, say) is refused
    with :class:`UnsafeCheckpointError` unless full unpickling was opted into.

    Args:
        filename: Path of the checkpoint.
        map_location: Passed to ``torch.load``.

    Returns:
        The loaded object (usually a dict).
    """
    path = Path(filename)
    if not path.is_file():
        raise FileNotFoundError(f'checkpoint not found: {path}')
    if path.stat().st_size == 0:
        raise EOFError(
            f'{path}: checkpoint file is empty (0 bytes; an interrupted copy?)'
        )
    if path.suffix == '.safetensors':
        from safetensors.torch import load_file

        device = 'cpu' if map_location is None else str(map_location)
        return load_file(str(path), device=device)
    if unsafe_load_allowed():
        return torch.load(path, map_location=map_location, weights_only=False)
    try:
        with torch.serialization.safe_globals(_safe_globals()):
            return torch.load(path, map_location=map_location, weights_only=True)
    except pickle.UnpicklingError as error:
        found = re.search(r'GLOBAL (\S+)', str(error))
        culprit = found.group(1) if found else str(error).splitlines()[0]
        raise UnsafeCheckpointError(
            f'Refusing to fully unpickle {path}: it contains objects beyond '
            f'tensors and plain data (first: {culprit}), and unpickling them can '
            'execute arbitrary code. If you trust this file, '
            'pass --unsafe-load to the tool (or set CXR_UNSAFE_LOAD=1, or call '
            'cxr_plugins.compat.allow_unsafe_load()), or convert it once with '
            'tools/convert to a weights-only checkpoint.'
        ) from error


def _history_buffer_state(self) -> dict:
    """Pickle state of mmengine's ``HistoryBuffer`` without its method table.

    Some buffers carry ``_statistics_methods`` (references to class functions,
    pickled through ``getattr``); it is a class-level registry that
    ``HistoryBuffer`` rebuilds itself, so leaving it out keeps our training
    checkpoints plain data that the weights-only loader accepts.
    """
    state = dict(self.__dict__)
    state.pop('_statistics_methods', None)
    return state


def _register_checkpoint_loader() -> None:
    from mmengine.logging.history_buffer import HistoryBuffer
    from mmengine.runner.checkpoint import CheckpointLoader

    def load_from_local(filename: str, map_location=None) -> dict:
        filename = os.path.expanduser(filename)
        return load_checkpoint_file(filename, map_location=map_location)

    CheckpointLoader.register_scheme(prefixes='', force=True)(load_from_local)
    HistoryBuffer.__getstate__ = _history_buffer_state


# --------------------------------------------------------------------------
# 3. CPU multi-process launch
# --------------------------------------------------------------------------
def _patch_cpu_pytorch_launcher() -> None:
    import mmengine.dist.utils as dist_utils

    original: Callable = dist_utils._init_dist_pytorch
    if getattr(original, '_cxr_patched', False):
        return

    def init_dist_pytorch(
        backend: str = 'nccl', init_backend: str = 'torch', **kwargs
    ) -> None:
        if torch.cuda.is_available():
            return original(backend=backend, init_backend=init_backend, **kwargs)
        if backend == 'nccl':
            backend = 'gloo'
        torch.distributed.init_process_group(backend=backend, **kwargs)

    init_dist_pytorch._cxr_patched = True
    dist_utils._init_dist_pytorch = init_dist_pytorch


def _install_atomic_checkpoint_save() -> None:
    """Crash-safe checkpoint writes (see :mod:`cxr_plugins.engine.checkpoint`)."""
    from cxr_plugins.engine.checkpoint import install_atomic_checkpoint_save

    install_atomic_checkpoint_save()


# --------------------------------------------------------------------------
# 4. version check
# --------------------------------------------------------------------------
def check_versions() -> list[str]:
    """Warn about each installed package that differs from the tested pins.

    Returns:
        The warning messages (empty when everything matches).
    """
    messages = []
    for package, tested in TESTED_VERSIONS.items():
        try:
            installed = importlib.metadata.version(package)
        except importlib.metadata.PackageNotFoundError:
            continue
        if installed.split('+')[0] != tested:
            messages.append(
                f'cxr_plugins was tested with {package}=={tested}, found '
                f'{installed}; see requirements/ for the tested pins.'
            )
    for message in messages:
        warnings.warn(message, stacklevel=2)
    return messages


def apply() -> None:
    """Apply every shim once (idempotent)."""
    global _applied
    if _applied:
        return
    _install_mmcv_ops_standin()
    _register_checkpoint_loader()
    _patch_cpu_pytorch_launcher()
    _install_atomic_checkpoint_save()
    check_versions()
    _applied = True
