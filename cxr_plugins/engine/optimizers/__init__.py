"""Optimizer-wrapper constructors (the mmseg one is imported by ``cxr_plugins.seg``)."""
