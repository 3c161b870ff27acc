"""Self-supervised pretraining algorithms (mmpretrain registry)."""

from .cnn_mae import CNNMAE  # noqa: F401
from .evax_mim import EVAXMIM  # noqa: F401
from .mae import CXRMAE  # noqa: F401
from .mrm import MRM, MRMViT  # noqa: F401
from .msmae import MSMAE, MSMAEClassifier, MSMAEViT  # noqa: F401
