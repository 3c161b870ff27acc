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
2. Checkpoints. :mod:`cxr_plugins.engine.checkpoint` holds the code; this
   module only registers it: the weights-only loader for local files
   (legacy pickles need ``--unsafe-load``), atomic saves, and strict loading
   for ``CXRPretrained`` init, ``load_from``, ``--resume`` and ``tools/test.py``.
3. CPU multi-process training. mmengine's pytorch launcher calls
   ``torch.cuda.set_device`` unconditionally; we skip it when CUDA is absent so
   ``torchrun`` + gloo runs on CPU (CI tests distributed training that way).
4. Version check: the tested pins are compared with what is installed and a
   warning (never an error) names any difference.
5. Quiet console. Known-harmless notices are dropped where they are emitted
   (each listed with its reason in :data:`HARMLESS_NOTICES`; every other
   warning still shows), and mmengine's hook-order table, per-parameter
   optimiser options and resolved-config dump (also saved in the work dir)
   are logged at DEBUG instead of INFO (``log_level='DEBUG'`` shows them).
"""

from __future__ import annotations

import importlib
import importlib.metadata
import importlib.util
import logging
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

_applied = False


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
# 2. checkpoints: safe loading, atomic saving, strict loading
# --------------------------------------------------------------------------
#: Names that moved to :mod:`cxr_plugins.engine.checkpoint`; still reachable
#: as ``compat.<name>`` (resolved lazily: that module imports mmengine).
_CHECKPOINT_NAMES = (
    'UNSAFE_LOAD_ENV',
    'UnsafeCheckpointError',
    'allow_unsafe_load',
    'load_checkpoint_file',
    'unsafe_load_allowed',
)


def __getattr__(name: str):
    if name in _CHECKPOINT_NAMES:
        from cxr_plugins.engine import checkpoint

        return getattr(checkpoint, name)
    raise AttributeError(f'module {__name__!r} has no attribute {name!r}')


def _install_checkpoint_handling() -> None:
    """Safe loader, atomic saves, strict loads (engine/checkpoint.py)."""
    from cxr_plugins.engine import checkpoint

    checkpoint.register_safe_loader()
    checkpoint.install_atomic_checkpoint_save()
    checkpoint.install_strict_loading()


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


# --------------------------------------------------------------------------
# 5. quiet console
# --------------------------------------------------------------------------
# Each entry: (start of the message, why it is harmless here).
HARMLESS_NOTICES = (
    (
        'Fail to import ``MultiScaleDeformableAttention``',
        'mmcv-lite (our pin) has no compiled ops; no config uses this module',
    ),
    (
        'The prefix is not set in metric class IoUMetric',
        "mmseg's IoUMetric has no default prefix; its keys are used unprefixed",
    ),
    (
        '"FileClient" will be deprecated',
        "mmengine's own CheckpointHook still builds a FileClient",
    ),
    (
        '"HardDiskBackend" is the alias of "LocalBackend"',
        'the same FileClient call inside mmengine',
    ),
    (
        '``build_loss`` would be deprecated soon',
        "mmseg's own decode heads call it",
    ),
    (
        'For binary segmentation, we suggest using',
        'two softmax classes (background, foreground) are deliberate: mDice with '
        'background is then what EVA-X reports',
    ),
    (
        'The draw is False, it means that the hook for visualization',
        "mmseg's visualisation hook is off unless tools/test.py --show-dir asks",
    ),
)
# mmengine INFO messages demoted to DEBUG (long tables a newcomer need not read).
DEBUG_ONLY_PREFIXES = (
    'Hooks will be executed in the following order',
    'paramwise_options -- ',
    'Config:\n',  # the resolved config, also saved in the work dir
)


class QuietConsoleFilter(logging.Filter):
    """Drop :data:`HARMLESS_NOTICES`; demote :data:`DEBUG_ONLY_PREFIXES`.

    Args:
        logger: The logger it is attached to: a demoted record is kept only if
            one of its handlers shows DEBUG.
    """

    def __init__(self, logger: logging.Logger) -> None:
        super().__init__()
        self.logger = logger

    def filter(self, record: logging.LogRecord) -> bool:
        message = str(record.msg)
        if message.startswith(tuple(text for text, _ in HARMLESS_NOTICES)):
            return False
        if record.levelno == logging.INFO and message.startswith(DEBUG_ONLY_PREFIXES):
            record.levelno, record.levelname = logging.DEBUG, 'DEBUG'
            return any(
                handler.level <= logging.DEBUG for handler in self.logger.handlers
            )
        return True


def _install_quiet_console() -> None:
    """Filter the mmcv-lite import warning and attach the log filter to
    every ``MMLogger`` (mmengine creates one per runner)."""
    for notice, _ in HARMLESS_NOTICES:
        warnings.filterwarnings(
            'ignore', message=re.escape(notice), category=UserWarning
        )
    from mmengine.logging import MMLogger

    if getattr(MMLogger.__init__, '_cxr_quiet', False):
        return
    original_init = MMLogger.__init__

    def init_with_filter(self, *args, **kwargs):
        original_init(self, *args, **kwargs)
        self.addFilter(QuietConsoleFilter(self))

    init_with_filter._cxr_quiet = True
    MMLogger.__init__ = init_with_filter
    for logger in MMLogger._instance_dict.values():
        logger.addFilter(QuietConsoleFilter(logger))


def apply() -> None:
    """Apply every shim once (idempotent)."""
    global _applied
    if _applied:
        return
    _install_quiet_console()
    _install_mmcv_ops_standin()
    _patch_cpu_pytorch_launcher()
    _install_checkpoint_handling()
    check_versions()
    _applied = True
