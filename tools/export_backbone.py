"""Turn a pretraining checkpoint into a backbone checkpoint for fine-tuning.

``python tools/export_backbone.py CKPT OUT [--algorithm auto|vit|cnn_mae]``

* ViT algorithms (CXRMAE/MAE, MSMAE, MRM, EVAXMIM: keys ``backbone.*`` under
  ``state_dict``): the encoder keys with the ``backbone.`` prefix removed
  (mmpretrain ViT names), which ``CXRViT`` loads with
  ``init_cfg=dict(type='Pretrained', checkpoint=OUT)``. Decoders, heads, mask
  tokens and teachers are dropped.
* CNN-MAE (keys ``backbone.encoder.features.*``): the DenseNet-121 encoder in
  torchvision layout (``features.*``, loaded by torchvision, timm and
  ``CXRDenseNet``) or, with ``--densenet-layout mmpretrain``, in mmpretrain
  ``DenseNet`` layout (``stem``/``stages``/``transitions``).

``--key-prefix backbone.`` writes the keys with that prefix instead, for configs
that load with ``prefix='backbone.'``. The tool then loads the result into the
matching backbone and prints the loaded, missing and unexpected keys; it fails
if a key the backbone needs is missing (a fresh ``fc_norm``/``ln2`` is expected).

Example::

    python tools/export_backbone.py work_dirs/demo/pretrain/epoch_20.pth \\
        work_dirs/demo/backbone.pth
"""

from __future__ import annotations

import argparse
import re
from pathlib import Path

import torch

import cxr_plugins  # noqa: F401  (compat shims: safe checkpoint loading)
from cxr_plugins.compat import load_checkpoint_file
from cxr_plugins.engine.checkpoint import (
    extract_state_dict,
    load_state_dict_strictly,
)

CNN_MAE_ENCODER_PREFIX = 'backbone.encoder.'
BACKBONE_PREFIX = 'backbone.'


def pretraining_state_dict(checkpoint: dict, source: str) -> dict[str, torch.Tensor]:
    """The model weights of an mmengine checkpoint (``state_dict`` key)."""
    state_dict = checkpoint.get('state_dict', checkpoint)
    if not any(key.startswith(BACKBONE_PREFIX) for key in state_dict):
        raise KeyError(
            f'{source}: no "backbone.*" keys under state_dict; expected '
            'a checkpoint written by an mmengine pretraining run'
        )
    return state_dict


def detect_algorithm(state_dict: dict[str, torch.Tensor]) -> str:
    """``'cnn_mae'`` for a U-Net encoder checkpoint, else ``'vit'``."""
    if any(key.startswith(CNN_MAE_ENCODER_PREFIX + 'features.') for key in state_dict):
        return 'cnn_mae'
    return 'vit'


_DENSENET_TO_MMPRETRAIN = [
    (re.compile(r'^features\.conv0\.'), 'stem.0.'),
    (re.compile(r'^features\.norm0\.'), 'stem.1.'),
    (
        re.compile(r'^features\.denseblock(\d+)\.denselayer(\d+)\.'),
        lambda m: f'stages.{int(m[1]) - 1}.block.{int(m[2]) - 1}.',
    ),
    (
        re.compile(r'^features\.transition(\d+)\.'),
        lambda m: f'transitions.{int(m[1]) - 1}.',
    ),
    (re.compile(r'^features\.norm5\.'), 'transitions.3.0.'),
]


def densenet_torchvision_to_mmpretrain(
    state_dict: dict[str, torch.Tensor],
) -> dict[str, torch.Tensor]:
    """Rename torchvision DenseNet-121 keys to mmpretrain ``DenseNet`` keys."""
    renamed = {}
    for key, value in state_dict.items():
        for pattern, replacement in _DENSENET_TO_MMPRETRAIN:
            new_key, count = pattern.subn(replacement, key)
            if count:
                renamed[new_key] = value
                break
        else:
            raise KeyError(f'no mmpretrain DenseNet name for torchvision key {key!r}')
    return renamed


def vit_from_state_dict(state_dict: dict[str, torch.Tensor]) -> torch.nn.Module:
    """Build a ``CXRViT`` whose shapes match an exported ViT state dict."""
    from cxr_plugins.models.backbones.cxr_vit import CXRViT

    projection = state_dict['patch_embed.projection.weight']
    embed_dims, patch_size = projection.shape[0], projection.shape[-1]
    layer_ids = {
        int(key.split('.')[1]) for key in state_dict if key.startswith('layers.')
    }
    num_tokens = state_dict['pos_embed'].shape[1] - 1
    grid = int(round(num_tokens**0.5))
    arch = dict(
        embed_dims=embed_dims,
        num_layers=len(layer_ids),
        num_heads=max(1, embed_dims // 64),
        feedforward_channels=state_dict['layers.0.ffn.layers.0.0.weight'].shape[0],
    )
    return CXRViT(
        arch=arch,
        img_size=grid * patch_size,
        patch_size=patch_size,
        final_norm='ln1.weight' in state_dict,
    )


def densenet_from_layout(layout: str) -> torch.nn.Module:
    """An untrained DenseNet-121 backbone in the given key layout."""
    if layout == 'mmpretrain':
        from mmpretrain.models.backbones import DenseNet

        return DenseNet(arch='121')
    from torchvision.models import densenet121

    network = densenet121(weights=None)
    del network.classifier
    return network


def check_loads(
    backbone: torch.nn.Module,
    state_dict: dict[str, torch.Tensor],
    source: str,
    allowed_missing: tuple[str, ...] = (),
) -> None:
    """Load strictly (up to ``allowed_missing``) and print what was loaded."""
    load_state_dict_strictly(backbone, state_dict, source, allowed_missing)
    missing = sorted(set(backbone.state_dict()) - set(state_dict))
    print(
        f'{type(backbone).__name__}: loaded {len(state_dict)} tensors; '
        f'missing (allowed) {missing or "none"}; unexpected none'
    )


def export_backbone(
    checkpoint_file: str,
    out_file: str,
    algorithm: str = 'auto',
    densenet_layout: str = 'torchvision',
    key_prefix: str = '',
) -> dict[str, torch.Tensor]:
    """Export, verify and save; return the backbone state dict (unprefixed)."""
    state_dict = pretraining_state_dict(
        load_checkpoint_file(checkpoint_file), checkpoint_file
    )
    if algorithm == 'auto':
        algorithm = detect_algorithm(state_dict)
    if algorithm == 'cnn_mae':
        backbone_state = extract_state_dict(state_dict, CNN_MAE_ENCODER_PREFIX)
        if densenet_layout == 'mmpretrain':
            backbone_state = densenet_torchvision_to_mmpretrain(backbone_state)
        check_loads(
            densenet_from_layout(densenet_layout), backbone_state, checkpoint_file
        )
    elif algorithm == 'vit':
        backbone_state = extract_state_dict(state_dict, BACKBONE_PREFIX)
        check_loads(
            vit_from_state_dict(backbone_state),
            backbone_state,
            checkpoint_file,
            allowed_missing=('ln2.*',),
        )
    else:
        raise ValueError(f'unknown algorithm {algorithm!r}')
    saved = {key_prefix + key: value for key, value in backbone_state.items()}
    out_path = Path(out_file)
    out_path.parent.mkdir(parents=True, exist_ok=True)
    torch.save(
        dict(
            state_dict=saved,
            meta=dict(
                source=str(checkpoint_file),
                algorithm=algorithm,
                densenet_layout=densenet_layout,
                key_prefix=key_prefix,
            ),
        ),
        out_path,
    )
    print(f'saved {len(saved)} tensors ({algorithm}) to {out_path}')
    return backbone_state


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument('checkpoint', help='pretraining checkpoint (mmengine)')
    parser.add_argument('out', help='backbone checkpoint to write')
    parser.add_argument(
        '--algorithm', default='auto', choices=['auto', 'vit', 'cnn_mae']
    )
    parser.add_argument(
        '--densenet-layout',
        default='torchvision',
        choices=['torchvision', 'mmpretrain'],
    )
    parser.add_argument(
        '--key-prefix', default='', help="prefix for every key, e.g. 'backbone.'"
    )
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    export_backbone(
        args.checkpoint, args.out, args.algorithm, args.densenet_layout, args.key_prefix
    )


if __name__ == '__main__':
    main()
