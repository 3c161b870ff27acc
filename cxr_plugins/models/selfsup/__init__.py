"""Self-supervised pretraining algorithms (mmpretrain registry)."""

from cxr_plugins.models.selfsup.cnn_mae import CNNMAE  # noqa: F401
from cxr_plugins.models.selfsup.evax_mim import EVAXMIM  # noqa: F401
from cxr_plugins.models.selfsup.mae import CXRMAE  # noqa: F401
from cxr_plugins.models.selfsup.mrm import MRM, MRMViT  # noqa: F401
from cxr_plugins.models.selfsup.msmae import MSMAE, MSMAEClassifier, MSMAEViT  # noqa: F401
from cxr_plugins.models.selfsup.report_encoder import MRMReportEncoder  # noqa: F401
