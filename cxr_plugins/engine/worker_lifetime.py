"""Data-loader workers that end with the process that started them.

A torch DataLoader worker notices that its parent died only when its index
queue times out (every 5 s, ``MP_STATUS_CHECK_INTERVAL``) and not at all
while it is busy in a long ``__getitem__``, so a trainer stopped with SIGTERM
or SIGKILL leaves its workers running for a while or for good (measured: both
workers of a paused two-worker run were alive 2 s after the trainer ended).
On Linux, :func:`die_with_parent` asks the kernel to SIGKILL the worker when
its parent exits (``prctl(PR_SET_PDEATHSIG)``). :func:`install_worker_parent_watch`
(called on ``import cxr_plugins``) makes mmengine's default ``worker_init_fn``
do that first in every worker. A config's own ``worker_init_fn`` is not
wrapped.
"""

from __future__ import annotations

import ctypes
import multiprocessing
import os
import signal
import sys

#: ``PR_SET_PDEATHSIG`` of ``<linux/prctl.h>``.
PR_SET_PDEATHSIG = 1

_MMENGINE_WORKER_INIT_FN = None


def die_with_parent() -> bool:
    """Have this process SIGKILLed when its parent exits (Linux only).

    Exits at once if the parent already died between fork and this call.

    Returns:
        Whether the kernel accepted the request (False off Linux).
    """
    if not sys.platform.startswith('linux'):
        return False
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0) != 0:
        return False
    parent = multiprocessing.parent_process()
    if parent is not None and os.getppid() != parent.pid:
        os._exit(1)
    return True


def worker_init_fn(worker_id: int, *args, **kwargs) -> None:
    """mmengine's ``worker_init_fn``, after :func:`die_with_parent`."""
    die_with_parent()
    _MMENGINE_WORKER_INIT_FN(worker_id, *args, **kwargs)


def install_worker_parent_watch() -> None:
    """Route mmengine Runner's default ``worker_init_fn`` through ours (idempotent)."""
    global _MMENGINE_WORKER_INIT_FN
    import mmengine.runner.runner as runner_module

    if _MMENGINE_WORKER_INIT_FN is None:
        _MMENGINE_WORKER_INIT_FN = runner_module.default_worker_init_fn
    runner_module.default_worker_init_fn = worker_init_fn
