"""One checkpoint module: safe loading, unwrapping, atomic saving, strict init.

1. Safe loading (:func:`load_checkpoint_file`). torch >= 2.6 defaults
   ``torch.load`` to ``weights_only=True``, which mmengine 0.10.7 does not
   expect. Local files are read with ``weights_only=True`` plus an allow-list
   of the plain-data globals mmengine writes into its own training checkpoints
   (``HistoryBuffer``, numpy arrays and scalars), so resuming works and an
   untrusted pickle still cannot run code. Legacy pickles load only after an
   explicit opt-in (:func:`allow_unsafe_load`, the ``--unsafe-load`` flag of
   the tools, or ``CXR_UNSAFE_LOAD=1``). ``.safetensors`` files load as they
   are. :func:`register_safe_loader` (called by :func:`cxr_plugins.compat.apply`)
   makes this mmengine's loader for local paths.
2. Unwrapping (:func:`unwrap_state_dict`): the one place that knows under
   which key a training script nested its weights.
3. Atomic saves. mmengine 0.10.7 writes a checkpoint by opening the final file
   name and writing into it (``LocalBackend.put``), and rewrites the
   ``last_checkpoint`` pointer the same way, so a job killed while saving
   leaves a truncated ``*.pth`` under the final name (or an empty pointer) and
   ``--resume`` then fails on it. :func:`install_atomic_checkpoint_save`
   routes both writes through :func:`atomic_write_bytes`: a temporary file in
   the same directory, flushed and fsynced, then ``os.replace``-d onto the
   final name, then the directory fsynced.
4. Strict loading, everywhere weights enter a model:

   * ``init_cfg=dict(type='CXRPretrained', ...)`` (registered in mmengine's
     ``WEIGHT_INITIALIZERS``, so it works in the mmpretrain and mmseg scopes)
     raises :class:`CheckpointMismatchError` listing every missing,
     unexpected and shape-mismatched key, unless the config names the keys it
     expects to differ (``allowed_missing=['head.*']``). mmengine's own
     ``Pretrained`` loads ``strict=False`` and only logs.
   * The strict load runs *after* each module's own ``init_weights``
     (:func:`init_weights_then_load`). mmengine defers only
     ``type='Pretrained'`` until the children are initialised, and backbones
     re-initialise after loading unless the type is exactly ``'Pretrained'``:
     mmpretrain's ``ResNet`` zeroes every residual-branch last BN
     (``zero_init_residual``), its ``VisionTransformer`` re-draws
     ``pos_embed``. One mechanism fixes all of them: the top-level
     ``init_weights`` call sets every ``CXRPretrained`` aside, runs the normal
     initialisation, then loads.
   * ``load_from`` / ``--resume`` / ``tools/test.py`` go through
     ``Runner.load_checkpoint``, which mmengine runs with ``strict=False``;
     :func:`install_strict_runner_load` makes it strict. The explicit opt-in
     :func:`allow_non_strict_load` (``--non-strict`` in the tools) loads what
     fits and prints every key it skipped.
"""

from __future__ import annotations

import contextlib
import fnmatch
import functools
import io
import os
import os.path as osp
import pickle
import re
import tempfile
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import IO, Any

import torch
from mmengine.registry import WEIGHT_INITIALIZERS

#: Name of mmengine's pointer to the newest checkpoint in a work dir.
LAST_CHECKPOINT_POINTER = 'last_checkpoint'

UNSAFE_LOAD_ENV = 'CXR_UNSAFE_LOAD'
_unsafe_load_allowed = False
_non_strict_load_allowed = False

#: Keys under which training scripts nest the weights, in the order EVA-X's
#: ``checkpoint_filter_fn`` tries them (EMA weights first); mmengine writes
#: ``state_dict``, MAE-family seeds ``model``, EVA-X ``module``.
WRAPPER_KEYS = ('model_ema', 'model', 'module', 'state_dict')


class UnsafeCheckpointError(RuntimeError):
    """A checkpoint needs full unpickling, which can execute arbitrary code."""


class CheckpointMismatchError(RuntimeError):
    """Weights do not fit the model they are loaded into."""


# --------------------------------------------------------------------------
# 1. safe loading
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
    (a seed checkpoint that stored ``argparse.Namespace``, say) is refused
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
            'execute arbitrary code. If you trust this file, pass --unsafe-load '
            '(or set CXR_UNSAFE_LOAD=1, or call '
            'cxr_plugins.engine.checkpoint.allow_unsafe_load()). Files this '
            'package writes (training, conversion, export) are weights-only '
            'and never need the flag.'
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


def register_safe_loader() -> None:
    """Make :func:`load_checkpoint_file` mmengine's loader for local paths."""
    from mmengine.logging.history_buffer import HistoryBuffer
    from mmengine.runner.checkpoint import CheckpointLoader

    def load_from_local(filename: str, map_location=None) -> dict:
        filename = os.path.expanduser(filename)
        return load_checkpoint_file(filename, map_location=map_location)

    CheckpointLoader.register_scheme(prefixes='', force=True)(load_from_local)
    HistoryBuffer.__getstate__ = _history_buffer_state


# --------------------------------------------------------------------------
# 2. unwrapping
# --------------------------------------------------------------------------
def _holds_tensors(value: Any) -> bool:
    return isinstance(value, Mapping) and any(
        isinstance(item, torch.Tensor) for item in value.values()
    )


def unwrap_state_dict(
    checkpoint: Mapping, prefix: str | None = None, source: str = 'checkpoint'
) -> tuple[dict[str, torch.Tensor], str]:
    """The tensors of the state dict inside a loaded checkpoint.

    Wrapper keys are tried in the order of :data:`WRAPPER_KEYS`; the first one
    holding tensors wins, else the checkpoint itself must be a state dict.
    Non-tensor entries are dropped and a ``module.`` prefix carried by every
    key (DataParallel) is removed.

    Args:
        checkpoint: What the loader returned.
        prefix: Keep only keys under this prefix (e.g. ``'backbone.'``), with
            the prefix removed.
        source: Name of the file, for the error message.

    Returns:
        The state dict and the wrapper key it came from (``''`` when bare).

    Raises:
        CheckpointMismatchError: Nothing in the checkpoint looks like a state
            dict.
    """
    if not isinstance(checkpoint, Mapping):
        raise CheckpointMismatchError(
            f'{source}: holds a {type(checkpoint).__module__}.'
            f'{type(checkpoint).__qualname__}, not a dict of tensors (a whole '
            'pickled model? save its state_dict() instead)'
        )
    wrapper = next(
        (key for key in WRAPPER_KEYS if _holds_tensors(checkpoint.get(key))), ''
    )
    state = checkpoint[wrapper] if wrapper else checkpoint
    if not _holds_tensors(state):
        raise CheckpointMismatchError(
            f'{source}: no state dict found; top-level keys are '
            f'{sorted(map(str, checkpoint))[:10]}, expected one of {WRAPPER_KEYS} '
            'holding tensors, or a bare state dict'
        )
    tensors = {
        str(key): value
        for key, value in state.items()
        if isinstance(value, torch.Tensor)
    }
    if tensors and all(key.startswith('module.') for key in tensors):
        tensors = {key[len('module.') :]: value for key, value in tensors.items()}
    if prefix:
        prefix = prefix if prefix.endswith('.') else prefix + '.'
        tensors = {
            key[len(prefix) :]: value
            for key, value in tensors.items()
            if key.startswith(prefix)
        }
    return tensors, wrapper


def extract_state_dict(checkpoint: Mapping, prefix: str | None = None) -> dict:
    """:func:`unwrap_state_dict` without the wrapper name."""
    return unwrap_state_dict(checkpoint, prefix)[0]


# --------------------------------------------------------------------------
# 3. atomic saves
# --------------------------------------------------------------------------
def atomic_write_bytes(data: bytes, path: str | os.PathLike) -> None:
    """Write ``data`` to ``path`` so that readers see the old file or the new one.

    Args:
        data: The complete file content.
        path: The final file name; its directory is created if missing.
    """
    path = os.fspath(path)
    directory = osp.dirname(osp.abspath(path))
    try:
        os.makedirs(directory, exist_ok=True)
        descriptor, temp_path = tempfile.mkstemp(
            dir=directory, prefix=f'.{osp.basename(path)}.', suffix='.tmp'
        )
    except OSError as error:
        raise OSError(error.errno, f'cannot write {path}: {error.strerror}') from error
    try:
        # mkstemp creates 0600; give the file the mode open() would (0666 - umask)
        if hasattr(os, 'fchmod'):
            os.fchmod(descriptor, 0o666 & ~_current_umask())
        with os.fdopen(descriptor, 'wb') as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temp_path, path)
    except BaseException as error:
        with contextlib.suppress(FileNotFoundError):
            os.remove(temp_path)
        if isinstance(error, OSError):
            raise OSError(
                error.errno,
                f'cannot write {path} ({len(data)} bytes; previous file kept): '
                f'{error.strerror}',
            ) from error
        raise
    _fsync_directory(directory)


def _current_umask() -> int:
    """The process umask (read by setting and restoring it)."""
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def _fsync_directory(directory: str) -> None:
    """Persist a rename: fsync the directory entry (no-op where unsupported)."""
    if not hasattr(os, 'O_DIRECTORY'):
        return
    descriptor = os.open(directory, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)


def save_weights(
    state_dict: Mapping[str, torch.Tensor],
    path: str | os.PathLike,
    meta: Mapping[str, Any] | None = None,
) -> None:
    """Write weights only, atomically: ``.safetensors`` or a torch file.

    A torch file holds ``{'state_dict': ..., 'meta': meta}``; safetensors keeps
    ``meta`` as string metadata (non-strings are ``repr``-ed).
    """
    meta = dict(meta or {})
    tensors = {key: value.contiguous() for key, value in state_dict.items()}
    if os.fspath(path).endswith('.safetensors'):
        from safetensors.torch import save

        data = save(
            tensors,
            metadata={
                key: value if isinstance(value, str) else repr(value)
                for key, value in meta.items()
            },
        )
    else:
        buffer = io.BytesIO()
        torch.save({'state_dict': tensors, 'meta': meta}, buffer)
        data = buffer.getvalue()
    atomic_write_bytes(data, path)


def _is_local_path(filename: str) -> bool:
    return '://' not in filename or filename.startswith('file://')


def atomic_save_checkpoint(
    checkpoint: dict,
    filename: str,
    file_client_args: dict | None = None,
    backend_args: dict | None = None,
) -> None:
    """Drop-in for ``mmengine.runner.checkpoint.save_checkpoint``, atomic locally.

    Remote back ends (``s3://``, ``pavi://``...) keep mmengine's own writer.
    """
    if not _is_local_path(filename) or file_client_args or backend_args:
        return _MMENGINE_SAVE_CHECKPOINT(
            checkpoint,
            filename,
            file_client_args=file_client_args,
            backend_args=backend_args,
        )
    buffer = io.BytesIO()
    torch.save(checkpoint, buffer)
    atomic_write_bytes(buffer.getvalue(), filename.removeprefix('file://'))
    return None


class _AtomicTextWriter(io.StringIO):
    """A text file handle that lands on disk atomically when closed."""

    def __init__(self, path: str, encoding: str) -> None:
        super().__init__()
        self._path = path
        self._encoding = encoding

    def close(self) -> None:
        if not self.closed:
            atomic_write_bytes(self.getvalue().encode(self._encoding), self._path)
        super().close()


def _checkpoint_hook_open(file: Any, mode: str = 'r', *args: Any, **kwargs: Any) -> IO:
    """``open`` for mmengine's CheckpointHook: the pointer file is written atomically.

    CheckpointHook opens exactly one file, ``<work_dir>/last_checkpoint``, to
    write the path of the newest checkpoint into it.
    """
    is_pointer = osp.basename(os.fspath(file)) == LAST_CHECKPOINT_POINTER
    if is_pointer and mode in ('w', 'wt'):
        return _AtomicTextWriter(os.fspath(file), kwargs.get('encoding') or 'utf-8')
    return open(file, mode, *args, **kwargs)


_MMENGINE_SAVE_CHECKPOINT = None


def install_atomic_checkpoint_save() -> None:
    """Route mmengine's checkpoint and pointer writes through atomic writers.

    Idempotent. Patches the name ``save_checkpoint`` where mmengine looks it up
    (``mmengine.runner.checkpoint``, ``mmengine.runner.runner`` and the
    ``mmengine.runner`` package) and gives ``mmengine.hooks.checkpoint_hook``
    a module-level ``open`` that writes ``last_checkpoint`` atomically.
    """
    global _MMENGINE_SAVE_CHECKPOINT
    import mmengine.hooks.checkpoint_hook as checkpoint_hook_module
    import mmengine.runner as runner_package
    import mmengine.runner.checkpoint as checkpoint_module
    import mmengine.runner.runner as runner_module

    if _MMENGINE_SAVE_CHECKPOINT is None:
        _MMENGINE_SAVE_CHECKPOINT = checkpoint_module.save_checkpoint
    for module in (checkpoint_module, runner_module, runner_package):
        module.save_checkpoint = atomic_save_checkpoint
    checkpoint_hook_module.open = _checkpoint_hook_open


# --------------------------------------------------------------------------
# 4. strict loading
# --------------------------------------------------------------------------
def allow_non_strict_load(allowed: bool = True) -> None:
    """Opt in (or out) of loading checkpoints that do not fit (``--non-strict``).

    Affects ``load_from``, ``--resume`` and ``tools/test.py``; every skipped
    key is still printed.
    """
    global _non_strict_load_allowed
    _non_strict_load_allowed = allowed


def non_strict_load_allowed() -> bool:
    """Whether :func:`allow_non_strict_load` is in effect."""
    return _non_strict_load_allowed


def _matches_any(key: str, patterns: Sequence[str]) -> bool:
    return any(fnmatch.fnmatchcase(key, pattern) for pattern in patterns)


_SIZE_MISMATCH = re.compile(r'size mismatch for ([^:]+):')


def _try_load(
    module: torch.nn.Module, state_dict: dict
) -> tuple[list[str], list[str], list[str]]:
    """``load_state_dict(strict=False)`` that skips shape-mismatched tensors.

    The module's own load pre-hooks run (mmpretrain ViTs and ``EVAX`` resize
    ``pos_embed`` there), so only true mismatches are reported.

    Returns:
        Missing keys, unexpected keys and one line per mis-shaped key.
    """
    state = dict(state_dict)
    shape_errors: list[str] = []
    while True:
        try:
            result = module.load_state_dict(state, strict=False)
        except RuntimeError as error:
            lines = [
                line.strip()
                for line in str(error).splitlines()
                if 'size mismatch' in line
            ]
            names = [
                match.group(1)
                for line in lines
                if (match := _SIZE_MISMATCH.search(line))
            ]
            if not names or not all(name in state for name in names):
                raise
            shape_errors += lines
            for name in names:
                del state[name]
            continue
        skipped = {
            line.split(':')[0].removeprefix('size mismatch for ')
            for line in shape_errors
        }
        missing = [key for key in result.missing_keys if key not in skipped]
        return missing, list(result.unexpected_keys), shape_errors


def load_state_dict_strictly(
    module: torch.nn.Module,
    state_dict: dict,
    source: str,
    allowed_missing: Sequence[str] = (),
    allowed_unexpected: Sequence[str] = (),
    strict: bool = True,
) -> dict[str, list[str]]:
    """Load ``state_dict`` into ``module``; raise on any mismatch not allowed.

    Args:
        module: The model part to initialise.
        state_dict: The weights.
        source: Where the weights came from, for the messages.
        allowed_missing: fnmatch patterns of model keys the checkpoint may lack
            (e.g. ``'head.*'`` when loading a backbone-only checkpoint).
        allowed_unexpected: fnmatch patterns of checkpoint keys to ignore.
        strict: ``False`` loads what fits and prints what was skipped
            (the ``--non-strict`` opt-in).

    Returns:
        ``{'missing': [...], 'unexpected': [...], 'mismatched': [...]}`` of what
        was not loaded (after the allowed patterns).

    Raises:
        CheckpointMismatchError: Listing missing, unexpected and shape-
            mismatched keys (``strict`` only).
    """
    missing, unexpected, shape_errors = _try_load(module, state_dict)
    skipped = dict(
        missing=[key for key in missing if not _matches_any(key, allowed_missing)],
        unexpected=[
            key for key in unexpected if not _matches_any(key, allowed_unexpected)
        ],
        mismatched=shape_errors,
    )
    if not any(skipped.values()):
        return skipped
    lines = [f'{source} does not fit {type(module).__name__}:']
    if skipped['missing']:
        lines.append(
            f'  missing in checkpoint ({len(skipped["missing"])}): {skipped["missing"]}'
        )
    if skipped['unexpected']:
        lines.append(
            f'  unexpected in checkpoint ({len(skipped["unexpected"])}): '
            f'{skipped["unexpected"]}'
        )
    lines += [f'  {line}' for line in shape_errors]
    if not strict:
        from mmengine.logging import print_log

        print_log(
            '\n'.join([*lines, '  --non-strict: loaded the rest, skipped the above.']),
            logger='current',
            level=30,
        )
        return skipped
    lines.append(
        '  If the difference is intended, list the keys in '
        "init_cfg's allowed_missing / allowed_unexpected (fnmatch "
        "patterns, e.g. allowed_missing=['head.*']); tools take --non-strict "
        'to load what fits and print what was skipped.'
    )
    raise CheckpointMismatchError('\n'.join(lines))


@WEIGHT_INITIALIZERS.register_module()
class CXRPretrained:
    """Initialise a module from a checkpoint and fail on any mismatch.

    Use instead of mmengine's ``Pretrained`` (which loads ``strict=False``)::

        init_cfg=dict(type='CXRPretrained', checkpoint='mae.pth',
                      prefix='backbone.', allowed_missing=['ln2.*'])

    Inside ``init_weights`` it runs after the module's own initialisation
    (see :func:`init_weights_then_load`), whatever the backbone. Checkpoints
    go through :func:`load_checkpoint_file` for local files.

    Args:
        checkpoint: Path of the checkpoint (``.pth`` or ``.safetensors``).
        prefix: Load only keys under this prefix, with it removed.
        allowed_missing: fnmatch patterns of model keys the checkpoint may lack.
        allowed_unexpected: fnmatch patterns of checkpoint keys to ignore.
        map_location: Passed to the loader.
    """

    def __init__(
        self,
        checkpoint: str,
        prefix: str | None = None,
        allowed_missing: Sequence[str] = (),
        allowed_unexpected: Sequence[str] = (),
        map_location: str = 'cpu',
    ) -> None:
        self.checkpoint = checkpoint
        self.prefix = prefix
        self.allowed_missing = list(allowed_missing)
        self.allowed_unexpected = list(allowed_unexpected)
        self.map_location = map_location

    def __call__(self, module: torch.nn.Module) -> None:
        if _pending_loads is not None:
            _pending_loads.append((module, self))
        else:
            self.load(module)

    def load(self, module: torch.nn.Module) -> None:
        """Load the checkpoint into ``module`` now, strictly."""
        from mmengine.logging import print_log
        from mmengine.runner.checkpoint import CheckpointLoader

        loaded = CheckpointLoader.load_checkpoint(
            self.checkpoint, map_location=self.map_location
        )
        source = self.checkpoint + (f' (prefix {self.prefix!r})' if self.prefix else '')
        state_dict, _ = unwrap_state_dict(loaded, self.prefix, source)
        if not state_dict:
            raise CheckpointMismatchError(
                f'{source} holds no weights under prefix {self.prefix!r}.'
            )
        load_state_dict_strictly(
            module, state_dict, source, self.allowed_missing, self.allowed_unexpected
        )
        print_log(f'loaded {len(state_dict)} tensors from {source}', logger='current')
        if hasattr(module, '_params_init_info'):
            from mmengine.model.weight_init import update_init_info

            update_init_info(module, init_info=f'CXRPretrained: {source}')


def _is_strict_cfg(init_cfg: Any) -> bool:
    cfgs = init_cfg if isinstance(init_cfg, list) else [init_cfg]
    return any(
        isinstance(cfg, Mapping) and cfg.get('type') in ('CXRPretrained', CXRPretrained)
        for cfg in cfgs
    )


#: Strict loads recorded while :func:`init_weights_then_load` runs the
#: modules' own initialisation; ``None`` outside of it.
_pending_loads: list[tuple[torch.nn.Module, CXRPretrained]] | None = None


def init_weights_then_load(
    model: torch.nn.Module, own_init: Callable[[], None] | None = None
) -> None:
    """Run ``model``'s own initialisation, then every strict pretrained load in it.

    While ``own_init`` (default ``model.init_weights``) runs, each
    ``CXRPretrained`` that mmengine calls is only recorded, so no backbone's
    post-init step (ResNet's ``zero_init_residual``, ViT's ``pos_embed`` draw,
    timm's init) can overwrite loaded weights; the loads then run, deepest
    module first (a parent's checkpoint overrides its children's, as with
    mmengine's ``Pretrained``). Nested calls defer to the outermost one.

    Args:
        model: The module to initialise.
        own_init: The initialisation to run first.
    """
    global _pending_loads
    own_init = own_init or model.init_weights
    if _pending_loads is not None:
        own_init()
        return
    _pending_loads = []
    try:
        own_init()
    finally:
        pending, _pending_loads = _pending_loads, None
    for module, initializer in reversed(pending):
        initializer.load(module)


def _wrap_init_weights(cls: type) -> None:
    """Make ``cls.init_weights`` defer strict loads when called on a top-level module.

    Applied to ``BaseModule`` and every subclass that defines its own
    ``init_weights`` (mmpretrain's ``ResNet``, ``VisionTransformer``, ...), so
    the outermost call runs the whole override chain first (its
    ``zero_init_residual`` / ``pos_embed`` draw included) and loads after.
    Calls from a parent's ``init_weights`` (which sets ``_params_init_info``)
    and nested calls go straight to the original.
    """
    own = cls.__dict__.get('init_weights')
    if own is None or getattr(own, '_cxr_strict_last', False):
        return

    @functools.wraps(own)
    def init_weights(self) -> None:
        if (
            _pending_loads is None
            and not hasattr(self, '_params_init_info')
            and any(
                _is_strict_cfg(getattr(m, 'init_cfg', None)) for m in self.modules()
            )
        ):
            return init_weights_then_load(self, lambda: own(self))
        return own(self)

    init_weights._cxr_strict_last = True
    cls.init_weights = init_weights


def _holds_strict_cfg(model: torch.nn.Module) -> bool:
    return any(_is_strict_cfg(getattr(m, 'init_cfg', None)) for m in model.modules())


def _wrap_subclasses(cls: type) -> None:
    _wrap_init_weights(cls)
    for subclass in cls.__subclasses__():
        _wrap_subclasses(subclass)


def _wrap_new_subclass(cls: type, **kwargs) -> None:
    """``BaseModule.__init_subclass__``: wrap classes defined from now on."""
    super(_BASE_MODULE, cls).__init_subclass__(**kwargs)
    _wrap_init_weights(cls)


_BASE_MODULE: type | None = None


def _runner_init_model_weights(self) -> None:
    """``Runner._init_model_weights`` through :func:`init_weights_then_load`."""
    from mmengine.dist import broadcast
    from mmengine.model import is_model_wrapper

    model = self.model.module if is_model_wrapper(self.model) else self.model
    if hasattr(model, 'init_weights'):
        init_weights_then_load(model)
        for params in model.state_dict().values():
            broadcast(params)


def _strict_runner_load_checkpoint(
    self,
    filename: str,
    map_location: str | Callable = 'cpu',
    strict: bool = True,
    revise_keys: list = [(r'^module.', '')],  # noqa: B006  (mmengine's signature)
) -> dict:
    """``Runner.load_checkpoint`` that refuses a checkpoint not fitting the model.

    Used for ``load_from``, ``--resume`` and ``tools/test.py``. mmengine's
    default is ``strict=False`` with a log line; here any missing, unexpected
    or mis-shaped key raises :class:`CheckpointMismatchError` naming them,
    unless :func:`allow_non_strict_load` was called (``--non-strict``), which
    loads what fits and prints what it skipped.
    """
    from mmengine.model import is_model_wrapper
    from mmengine.runner.checkpoint import _load_checkpoint

    checkpoint = _load_checkpoint(filename, map_location=map_location)
    self.call_hook('after_load_checkpoint', checkpoint=checkpoint)
    model = self.model.module if is_model_wrapper(self.model) else self.model
    state_dict, _ = unwrap_state_dict(checkpoint, source=str(filename))
    for pattern, replacement in revise_keys:
        state_dict = {
            re.sub(pattern, replacement, key): value
            for key, value in state_dict.items()
        }
    load_state_dict_strictly(
        model,
        state_dict,
        str(filename),
        strict=strict and not non_strict_load_allowed(),
    )
    self._has_loaded = True
    self.logger.info(f'Load checkpoint from {filename}')
    return checkpoint


def install_strict_loading() -> None:
    """Make ``init_weights`` load strict checkpoints last and ``Runner`` load strictly.

    Idempotent; called by :func:`cxr_plugins.compat.apply`.
    """
    global _BASE_MODULE
    from mmengine.model import BaseModule
    from mmengine.runner import Runner

    _BASE_MODULE = BaseModule
    _wrap_subclasses(BaseModule)
    BaseModule.__init_subclass__ = classmethod(_wrap_new_subclass)
    Runner._init_model_weights = _runner_init_model_weights
    Runner.load_checkpoint = _strict_runner_load_checkpoint
