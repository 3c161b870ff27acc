"""Hooks, checkpoint I/O and optimizer constructors (mmpretrain registry)."""

from cxr_plugins.engine import checkpoint, hooks, optimizers, worker_lifetime

worker_lifetime.install_worker_parent_watch()

__all__ = ['checkpoint', 'hooks', 'optimizers', 'worker_lifetime']
