"""DenseNet with torchvision parameter names, for chest X-ray fine-tuning.

Huang et al., "Densely Connected Convolutional Networks", CVPR 2017
(https://arxiv.org/abs/1608.06993); the DenseNet-121 baseline of CheXNet
(https://arxiv.org/abs/1711.05225) and Medical MAE's CNN-MAE
(https://arxiv.org/abs/2210.12843).

mmpretrain's ``DenseNet`` renames torchvision's layers (``stem``/``stages``),
so torchvision/ImageNet weights and Medical MAE's CNN-MAE encoder exports (smp
``model.encoder.*`` with the prefix stripped: ``features.conv0.weight``, ...)
would need a converter. This wrapper keeps torchvision's ``features`` module
as is; the network is torchvision's ``DenseNet``. ResNet-50 needs no wrapper:
mmpretrain's ``ResNet`` already uses torchvision names (``conv1``, ``bn1``,
``layer1.0.downsample.0``).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from mmengine.model import BaseModule
from mmpretrain.registry import MODELS
from torchvision.models import DenseNet

DENSENET_ARCHS: dict[str, dict] = {
    '121': dict(growth_rate=32, block_config=(6, 12, 24, 16), num_init_features=64),
    '169': dict(growth_rate=32, block_config=(6, 12, 32, 32), num_init_features=64),
    '201': dict(growth_rate=32, block_config=(6, 12, 48, 32), num_init_features=64),
    # Two tiny blocks for CPU tests and demos.
    'demo': dict(growth_rate=8, block_config=(2, 2), num_init_features=16),
}


@MODELS.register_module()
class CXRDenseNet(BaseModule):
    """torchvision DenseNet feature extractor (keys ``features.*``).

    Args:
        arch: ``'121'``, ``'169'``, ``'201'``, ``'demo'`` or a dict of
            torchvision ``DenseNet`` arguments (``growth_rate``,
            ``block_config``, ``num_init_features``).
        drop_rate: Dropout after each dense layer (torchvision's
            ``drop_rate``).
        init_cfg: mmengine init config; ``dict(type='Pretrained',
            checkpoint=..., prefix=...)`` loads torchvision-named weights.

    Returns from ``forward``: a 1-tuple with the ReLU'd last feature map
    (``(B, C, H/32, W/32)`` for the 4-block archs), as torchvision's
    classifier sees it before pooling; pair with mmpretrain's
    ``GlobalAveragePooling`` neck.

    Example:
        >>> import torch
        >>> model = CXRDenseNet(arch='demo')
        >>> model(torch.rand(1, 3, 64, 64))[0].shape
        torch.Size([1, 32, 8, 8])
    """

    def __init__(
        self,
        arch: str | dict = '121',
        drop_rate: float = 0.0,
        init_cfg: dict | list | None = None,
    ) -> None:
        super().__init__(init_cfg=init_cfg)
        if isinstance(arch, str):
            if arch not in DENSENET_ARCHS:
                raise KeyError(
                    f'CXRDenseNet: unknown arch {arch!r}; expected one of '
                    f'{sorted(DENSENET_ARCHS)} or a dict.'
                )
            arch = DENSENET_ARCHS[arch]
        network = DenseNet(**arch, drop_rate=drop_rate)
        self.features = network.features
        self.out_channels = network.classifier.in_features

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor]:
        """Return ``(relu(features(x)),)``."""
        return (F.relu(self.features(x)),)
