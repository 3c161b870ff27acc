"""Necks (mmseg registry), imported by :mod:`cxr_plugins.seg`."""
