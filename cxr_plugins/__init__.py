"""cxr_plugins: OpenMMLab plugins for chest X-ray representation learning.

Importing the package applies the stack shims in :mod:`cxr_plugins.compat` and
registers every classification / pretraining module into mmpretrain's
registries. Segmentation modules live in :mod:`cxr_plugins.seg`, which the
segmentation configs import (it registers into mmseg's registries).
"""

from cxr_plugins import compat
from cxr_plugins.version import __version__

compat.apply()

from cxr_plugins import datasets, engine, evaluation, models  # noqa: E402  (registration)

__all__ = ['__version__', 'compat', 'datasets', 'engine', 'evaluation', 'models']
