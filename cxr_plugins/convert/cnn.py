"""Map CNN checkpoints to torchvision DenseNet (CXRDenseNet) / mmpretrain ResNet keys.

- DenseNet-121 (Huang et al., https://arxiv.org/abs/1608.06993): Medical MAE's
  CNN-MAE (an smp ``Unet`` whose encoder is torchvision's DenseNet; keys
  ``model.encoder.features.*``), the ImageNet DenseNet of Medical MAE issue #10
  (``state_dict`` with torchvision keys, possibly under ``module.`` /
  ``densenet121.`` and the pre-0.4 ``norm.1`` naming) and plain torchvision.
- ResNet-50 self-supervised seeds: MoCo v2 (Chen et al.,
  https://arxiv.org/abs/2003.04297; ``module.encoder_q.*``), BYOL (Grill et al.,
  https://arxiv.org/abs/2006.07733; ``module.online_network.encoder.<i>.*``
  with the encoder an ``nn.Sequential`` of torchvision ResNet children) and SwAV
  (Caron et al., https://arxiv.org/abs/2006.09882; ``module.*`` plus
  ``projection_head`` / ``prototypes``). torchvision and mmpretrain ``ResNet``
  share key names (``conv1``, ``bn1``, ``layerN.M.{conv,bn}K``, ``downsample``).
"""

from __future__ import annotations

import re
from collections.abc import Mapping

import torch

from cxr_plugins.convert.common import MappedWeights, strip_prefixes

# torchvision's own fix-up for DenseNet weights saved before torch 0.4.
_OLD_DENSENET_NAME = re.compile(
    r'^(.*denselayer\d+\.(?:norm|relu|conv))\.((?:[12])\.'
    r'(?:weight|bias|running_mean|running_var))$'
)

#: Position in ``nn.Sequential(*resnet.children())`` -> torchvision name.
RESNET_CHILDREN = (
    'conv1',
    'bn1',
    'relu',
    'maxpool',
    'layer1',
    'layer2',
    'layer3',
    'layer4',
    'avgpool',
    'fc',
)


def densenet_to_torchvision(state_dict: Mapping[str, torch.Tensor]) -> MappedWeights:
    """Rename a DenseNet-121 checkpoint to torchvision ``densenet121`` keys.

    Backbone keys are ``features.*``; ``classifier`` (or the CheXNet-style
    ``classifier.0``) goes to the head as ``fc.*``; the smp U-Net decoder and
    segmentation head are dropped.

    Args:
        state_dict: Unwrapped source state dict.

    Returns:
        Mapped weights.
    """
    state = strip_prefixes(state_dict, ('module.', 'model.', 'densenet121.'))
    mapped = MappedWeights()
    for key, tensor in state.items():
        if key.startswith(('decoder.', 'segmentation_head.')):
            mapped.dropped[key] = 'smp U-Net decoder (CNN-MAE pretraining only)'
            continue
        if key.startswith('encoder.'):
            key = key[len('encoder.') :]
        key = _OLD_DENSENET_NAME.sub(r'\1\2', key)
        if key.startswith('features.'):
            mapped.backbone[key] = tensor
        elif match := re.match(r'^classifier\.(?:0\.)?(weight|bias)$', key):
            mapped.head[f'fc.{match.group(1)}'] = tensor
        else:
            mapped.unmapped.append(key)
    return mapped


def _torchvision_resnet_keys(
    state_dict: Mapping[str, torch.Tensor], mapped: MappedWeights
) -> None:
    for key, tensor in state_dict.items():
        if key.startswith('fc.'):
            mapped.head[key] = tensor
        elif re.match(r'^(conv1|bn1|layer[1-4])\.', key):
            mapped.backbone[key] = tensor
        else:
            mapped.unmapped.append(key)


def moco_to_resnet(state_dict: Mapping[str, torch.Tensor]) -> MappedWeights:
    """MoCo v2: keep the query encoder minus its projection MLP ``fc``."""
    state = strip_prefixes(state_dict, ('module.',))
    mapped = MappedWeights()
    encoder: dict[str, torch.Tensor] = {}
    for key, tensor in state.items():
        if key.startswith('encoder_q.fc.'):
            mapped.dropped[key] = 'MoCo projection MLP (pretraining only)'
        elif key.startswith('encoder_q.'):
            encoder[key[len('encoder_q.') :]] = tensor
        elif key.startswith('encoder_k.') or key in ('queue', 'queue_ptr'):
            mapped.dropped[key] = 'MoCo momentum encoder / queue'
        else:
            mapped.unmapped.append(key)
    _torchvision_resnet_keys(encoder, mapped)
    return mapped


def byol_to_resnet(state_dict: Mapping[str, torch.Tensor]) -> MappedWeights:
    """BYOL: keep the online encoder; ``<i>.`` indices become child names."""
    state = strip_prefixes(state_dict, ('module.',))
    mapped = MappedWeights()
    encoder: dict[str, torch.Tensor] = {}
    prefix = 'online_network.encoder.'
    for key, tensor in state.items():
        if key.startswith(prefix):
            index, _, rest = key[len(prefix) :].partition('.')
            if not index.isdigit() or int(index) >= len(RESNET_CHILDREN):
                mapped.unmapped.append(key)
                continue
            encoder[f'{RESNET_CHILDREN[int(index)]}.{rest}'] = tensor
        elif key.startswith(('online_network.', 'target_network.', 'predictor.')):
            mapped.dropped[key] = 'BYOL projector / predictor / target network'
        else:
            mapped.unmapped.append(key)
    _torchvision_resnet_keys(encoder, mapped)
    return mapped


def swav_to_resnet(state_dict: Mapping[str, torch.Tensor]) -> MappedWeights:
    """SwAV: torchvision trunk plus ``projection_head`` and ``prototypes``."""
    state = strip_prefixes(state_dict, ('module.',))
    mapped = MappedWeights()
    trunk: dict[str, torch.Tensor] = {}
    for key, tensor in state.items():
        if key.startswith(('projection_head.', 'prototypes.')):
            mapped.dropped[key] = 'SwAV projection head / prototypes'
        else:
            trunk[key] = tensor
    _torchvision_resnet_keys(trunk, mapped)
    return mapped
