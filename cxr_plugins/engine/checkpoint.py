"""Crash-safe checkpoint writing and strict pretrained-weight loading.

1. Atomic saves. mmengine 0.10.7 writes a checkpoint by opening the final file
   name and writing into it (``LocalBackend.put``), and rewrites the
   ``last_checkpoint`` pointer the same way, so a job killed while saving
   leaves a truncated ``*.pth`` under the final name (or an empty pointer) and
   ``--resume`` then fails on it. :func:`install_atomic_checkpoint_save`
   (called by :func:`cxr_plugins.compat.apply`) routes both writes through
   :func:`atomic_write_bytes`: a temporary file in the same directory, flushed
   and fsynced, then ``os.replace``-d onto the final name (atomic on POSIX and
   Windows), then the directory fsynced. A kill at any point leaves either the
   previous file or the complete new one.
2. Strict pretrained loading. mmengine's ``init_cfg=dict(type='Pretrained')``
   loads with ``strict=False`` and only logs what did not match, so weights of
   the wrong architecture train silently from random init. ``CXRPretrained``
   (registered in mmengine's ``WEIGHT_INITIALIZERS``, so it works in the
   mmpretrain and mmseg scopes) raises :class:`CheckpointMismatchError` listing
   every missing, unexpected and shape-mismatched key, unless the config names
   the keys it expects to differ (``allowed_missing=['head.*']``).
"""

from __future__ import annotations

import contextlib
import fnmatch
import io
import os
import os.path as osp
import tempfile
from collections.abc import Sequence
from typing import IO, Any

import torch
from mmengine.registry import WEIGHT_INITIALIZERS

#: Name of mmengine's pointer to the newest checkpoint in a work dir.
LAST_CHECKPOINT_POINTER = 'last_checkpoint'


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
# strict pretrained loading
# --------------------------------------------------------------------------
class CheckpointMismatchError(RuntimeError):
    """Pretrained weights do not fit the model they are loaded into."""


def _matches_any(key: str, patterns: Sequence[str]) -> bool:
    return any(fnmatch.fnmatchcase(key, pattern) for pattern in patterns)


def extract_state_dict(checkpoint: dict, prefix: str | None = None) -> dict:
    """The weights of a loaded checkpoint, optionally those under ``prefix``.

    Args:
        checkpoint: A loaded checkpoint: a state dict, or a dict holding one
            under ``'state_dict'`` (mmengine) or ``'model'`` (timm / MAE).
        prefix: Keep only keys starting with this (e.g. ``'backbone.'``),
            with the prefix removed.

    Returns:
        The state dict.
    """
    for container_key in ('state_dict', 'model'):
        if isinstance(checkpoint.get(container_key), dict):
            checkpoint = checkpoint[container_key]
            break
    state_dict = {
        key.removeprefix('module.'): value for key, value in checkpoint.items()
    }
    if prefix:
        prefix = prefix if prefix.endswith('.') else prefix + '.'
        state_dict = {
            key[len(prefix) :]: value
            for key, value in state_dict.items()
            if key.startswith(prefix)
        }
    return state_dict


def load_state_dict_strictly(
    module: torch.nn.Module,
    state_dict: dict,
    source: str,
    allowed_missing: Sequence[str] = (),
    allowed_unexpected: Sequence[str] = (),
) -> None:
    """Load ``state_dict`` into ``module``; raise on any mismatch not allowed.

    The module's own load pre-hooks run first (mmpretrain ViTs resize
    ``pos_embed`` there), so only true mismatches are reported.

    Args:
        module: The model part to initialise.
        state_dict: The weights.
        source: Where the weights came from, for the error message.
        allowed_missing: fnmatch patterns of model keys the checkpoint may lack
            (e.g. ``'head.*'`` when loading a backbone-only checkpoint).
        allowed_unexpected: fnmatch patterns of checkpoint keys to ignore.

    Raises:
        CheckpointMismatchError: Listing missing, unexpected and shape-
            mismatched keys.
    """
    shape_errors: list[str] = []
    try:
        result = module.load_state_dict(state_dict, strict=False)
        missing, unexpected = result.missing_keys, result.unexpected_keys
    except RuntimeError as error:
        shape_errors = [
            line.strip() for line in str(error).splitlines() if 'size mismatch' in line
        ]
        if not shape_errors:
            raise
        model_keys = set(module.state_dict())
        missing = sorted(model_keys - set(state_dict))
        unexpected = sorted(set(state_dict) - model_keys)
    missing = [key for key in missing if not _matches_any(key, allowed_missing)]
    unexpected = [
        key for key in unexpected if not _matches_any(key, allowed_unexpected)
    ]
    if not (missing or unexpected or shape_errors):
        return
    lines = [f'{source} does not fit {type(module).__name__}:']
    if missing:
        lines.append(f'  missing in checkpoint ({len(missing)}): {missing}')
    if unexpected:
        lines.append(f'  unexpected in checkpoint ({len(unexpected)}): {unexpected}')
    lines += [f'  {line}' for line in shape_errors]
    lines.append(
        '  If the difference is intended, list the keys in '
        "init_cfg's allowed_missing / allowed_unexpected (fnmatch "
        "patterns, e.g. allowed_missing=['head.*'])."
    )
    raise CheckpointMismatchError('\n'.join(lines))


@WEIGHT_INITIALIZERS.register_module()
class CXRPretrained:
    """Initialise a module from a checkpoint and fail on any mismatch.

    Use instead of mmengine's ``Pretrained`` (which loads ``strict=False``)::

        init_cfg=dict(type='CXRPretrained', checkpoint='mae.pth',
                      prefix='backbone.', allowed_missing=['ln2.*'],
                      allowed_unexpected=['ln1.*'])

    Checkpoints go through mmengine's ``CheckpointLoader``, i.e. the
    ``weights_only`` loader of :mod:`cxr_plugins.compat` for local files.

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
        from mmengine.logging import print_log
        from mmengine.runner.checkpoint import CheckpointLoader

        loaded = CheckpointLoader.load_checkpoint(
            self.checkpoint, map_location=self.map_location
        )
        state_dict = extract_state_dict(loaded, self.prefix)
        source = self.checkpoint + (f' (prefix {self.prefix!r})' if self.prefix else '')
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
