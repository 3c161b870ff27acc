"""Convert seed checkpoints (Medical MAE, MRM, MSMAE, EVA-X, HF ViTMAE, DenseNet,
MoCo / BYOL / SwAV ResNet-50) into cxr_plugins backbones.

Pure key-mapping functions; nothing is registered. The CLI is
``tools/convert/convert_checkpoint.py``.
"""

from cxr_plugins.convert.common import (
    ConversionError,
    ConversionReport,
    MappedWeights,
    fit_to_target,
    resample_patch_projection,
    resample_position_embedding,
    unwrap_checkpoint,
)
from cxr_plugins.convert.dispatch import (
    FORMATS,
    convert_checkpoint,
    detect_format,
    map_weights,
)

__all__ = [
    'FORMATS',
    'ConversionError',
    'ConversionReport',
    'MappedWeights',
    'convert_checkpoint',
    'detect_format',
    'fit_to_target',
    'map_weights',
    'resample_patch_projection',
    'resample_position_embedding',
    'unwrap_checkpoint',
]
