"""Turn a pretraining (or fine-tuning) checkpoint into a backbone checkpoint.

Examples::

    python tools/export_backbone.py work_dirs/mae/epoch_800.pth vit-s.pth
    # timm key names + safetensors: usable in plain timm
    python tools/export_backbone.py work_dirs/mae/epoch_800.pth vit-s.safetensors \\
        --layout timm

* ViT algorithms (CXRMAE/MAE, MSMAE, MRM, EVAXMIM students, classifiers:
  keys ``backbone.*`` under ``state_dict``): the encoder keys with the
  ``backbone.`` prefix removed (``CXRViT`` / ``EVAX`` names), loadable with
  ``init_cfg=dict(type='CXRPretrained', checkpoint=OUT)``. Decoders, heads,
  mask tokens and teachers are dropped.
* ``--layout timm`` renames to timm's names instead: ``CXRViT`` weights to
  timm ``VisionTransformer`` (``vit_*``: ``blocks.N.norm1``, ``mlp.fc1``,
  ``fc_norm``/``norm``), ``EVAX`` weights unchanged (they already carry timm
  ``Eva`` / ``eva02_*`` names). Load them with ``timm.create_model(NAME,
  pretrained=False, <geometry>)`` + ``load_state_dict(strict=True)``; the
  tool prints the create_model arguments.
* CNN-MAE (keys ``backbone.encoder.features.*``): the DenseNet-121 encoder in
  torchvision layout (``features.*``, loaded by torchvision, timm and
  ``CXRDenseNet``) or, with ``--densenet-layout mmpretrain``, in mmpretrain
  ``DenseNet`` layout (``stem``/``stages``/``transitions``).

``OUT.safetensors`` writes safetensors, anything else a torch file
``{'state_dict', 'meta'}``; both atomically. ``--key-prefix backbone.`` writes
the keys with that prefix instead. The tool loads the result into the
matching backbone first and fails if a key the backbone needs is missing (a
fresh ``fc_norm``/``ln2`` is expected for pretraining checkpoints).
"""

from __future__ import annotations

import argparse
import re
import sys

import torch

import cxr_plugins  # noqa: F401  (compat shims: safe checkpoint loading)
from cxr_plugins.engine.checkpoint import (
    load_checkpoint_file,
    load_state_dict_strictly,
    save_weights,
    unwrap_state_dict,
)

CNN_MAE_ENCODER_PREFIX = 'backbone.encoder.'
BACKBONE_PREFIX = 'backbone.'


def pretraining_state_dict(checkpoint: dict, source: str) -> dict[str, torch.Tensor]:
    """The model weights of an mmengine checkpoint, which must hold ``backbone.*``."""
    state_dict, _ = unwrap_state_dict(checkpoint, source=source)
    if not any(key.startswith(BACKBONE_PREFIX) for key in state_dict):
        raise KeyError(
            f'{source}: no "backbone.*" keys in the state dict; expected '
            'a checkpoint written by an mmengine pretraining or training run'
        )
    return state_dict


def detect_algorithm(state_dict: dict[str, torch.Tensor]) -> str:
    """``'cnn_mae'`` for a U-Net encoder, ``'evax'`` for EVAX keys, else ``'vit'``."""
    if any(key.startswith(CNN_MAE_ENCODER_PREFIX + 'features.') for key in state_dict):
        return 'cnn_mae'
    if any(key.startswith(BACKBONE_PREFIX + 'blocks.') for key in state_dict):
        return 'evax'
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

#: mmpretrain ``VisionTransformer`` (``CXRViT``) name -> timm ``VisionTransformer``.
MMPRETRAIN_TO_TIMM_VIT = [
    (re.compile(r'^patch_embed\.projection\.'), 'patch_embed.proj.'),
    (re.compile(r'^layers\.(\d+)\.ln1\.'), r'blocks.\1.norm1.'),
    (re.compile(r'^layers\.(\d+)\.ln2\.'), r'blocks.\1.norm2.'),
    (re.compile(r'^layers\.(\d+)\.attn\.(qkv|proj)\.'), r'blocks.\1.attn.\2.'),
    (re.compile(r'^layers\.(\d+)\.ffn\.layers\.0\.0\.'), r'blocks.\1.mlp.fc1.'),
    (re.compile(r'^layers\.(\d+)\.ffn\.layers\.1\.'), r'blocks.\1.mlp.fc2.'),
    (re.compile(r'^ln1\.'), 'norm.'),
    (re.compile(r'^ln2\.'), 'fc_norm.'),
    (re.compile(r'^(cls_token|pos_embed)$'), r'\1'),
]


def rename(state_dict: dict[str, torch.Tensor], rules: list, what: str) -> dict:
    """Apply the first matching rule to every key; unknown keys are an error."""
    renamed = {}
    for key, value in state_dict.items():
        for pattern, replacement in rules:
            new_key, count = pattern.subn(replacement, key)
            if count:
                renamed[new_key] = value
                break
        else:
            raise KeyError(f'no {what} name for key {key!r}')
    return renamed


def densenet_torchvision_to_mmpretrain(
    state_dict: dict[str, torch.Tensor],
) -> dict[str, torch.Tensor]:
    """Rename torchvision DenseNet-121 keys to mmpretrain ``DenseNet`` keys."""
    return rename(state_dict, _DENSENET_TO_MMPRETRAIN, 'mmpretrain DenseNet')


def vit_arch(state_dict: dict[str, torch.Tensor], num_heads: int | None) -> dict:
    """``CXRViT`` geometry read off an exported state dict (head dim 64 default)."""
    projection = state_dict['patch_embed.projection.weight']
    embed_dims = projection.shape[0]
    layer_ids = {
        int(key.split('.')[1]) for key in state_dict if key.startswith('layers.')
    }
    grid = round((state_dict['pos_embed'].shape[1] - 1) ** 0.5)
    return dict(
        arch=dict(
            embed_dims=embed_dims,
            num_layers=len(layer_ids),
            num_heads=num_heads or max(1, embed_dims // 64),
            feedforward_channels=state_dict['layers.0.ffn.layers.0.0.weight'].shape[0],
        ),
        img_size=grid * projection.shape[-1],
        patch_size=projection.shape[-1],
    )


def vit_from_state_dict(
    state_dict: dict[str, torch.Tensor], num_heads: int | None = None
) -> torch.nn.Module:
    """Build a ``CXRViT`` whose shapes match an exported ViT state dict."""
    from cxr_plugins.models.backbones.cxr_vit import CXRViT

    return CXRViT(
        **vit_arch(state_dict, num_heads), final_norm='ln1.weight' in state_dict
    )


def evax_from_state_dict(
    state_dict: dict[str, torch.Tensor], num_heads: int | None = None
) -> torch.nn.Module:
    """Build an ``EVAX`` whose shapes match an exported EVAX state dict."""
    from cxr_plugins.convert.eva import infer_evax_arch
    from cxr_plugins.models.backbones.eva_x import EVAX

    arch = infer_evax_arch(state_dict)
    if num_heads:
        arch['num_heads'] = num_heads
    projection = state_dict['patch_embed.proj.weight']
    grid = round((state_dict['pos_embed'].shape[1] - 1) ** 0.5)
    return EVAX(
        arch=arch, img_size=grid * projection.shape[-1], patch_size=projection.shape[-1]
    )


def timm_create_args(algorithm: str, backbone: torch.nn.Module) -> dict:
    """``timm.create_model`` arguments that rebuild ``backbone`` in timm."""
    if algorithm == 'vit':
        return dict(
            model_name='vit_base_patch16_224',
            img_size=backbone.patch_resolution[0]
            * backbone.patch_embed.projection.kernel_size[0],
            patch_size=backbone.patch_embed.projection.kernel_size[0],
            embed_dim=backbone.embed_dims,
            depth=backbone.num_layers,
            num_heads=backbone.layers[0].attn.num_heads,
            mlp_ratio=backbone.layers[0].ffn.layers[0][0].out_features
            / backbone.embed_dims,
            num_classes=0,
            global_pool='avg' if backbone.out_type == 'avg_featmap' else 'token',
            fc_norm=hasattr(backbone, 'ln2') and backbone.out_type == 'avg_featmap',
        )
    attn = backbone.blocks[0].attn
    return dict(
        model_name='eva02_small_patch14_224',
        img_size=backbone.patch_embed.img_size[0],
        patch_size=backbone.patch_embed.patch_size[0],
        embed_dim=backbone.embed_dims,
        depth=backbone.num_layers,
        num_heads=attn.num_heads,
        qkv_fused=attn.qkv is not None,
        scale_mlp=not isinstance(backbone.blocks[0].mlp.norm, torch.nn.Identity),
        ref_feat_shape=tuple(int(v) for v in backbone.rope.ref_feat_shape),
        num_classes=0,
        global_pool='avg',
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
    layout: str = 'cxr',
    num_heads: int | None = None,
) -> dict[str, torch.Tensor]:
    """Export, verify and save; return the saved state dict (unprefixed).

    Args:
        checkpoint_file: mmengine checkpoint with ``backbone.*`` keys.
        out_file: ``.safetensors`` or a torch file.
        algorithm: ``'auto'``, ``'vit'``, ``'evax'`` or ``'cnn_mae'``.
        densenet_layout: CNN-MAE output layout.
        key_prefix: Prefix for every saved key.
        layout: ``'cxr'`` (our names) or ``'timm'`` (timm names).
        num_heads: Attention heads, when the head dim is not 64.
    """
    state_dict = pretraining_state_dict(
        load_checkpoint_file(checkpoint_file), checkpoint_file
    )
    if algorithm == 'auto':
        algorithm = detect_algorithm(state_dict)
    meta = dict(source=str(checkpoint_file), algorithm=algorithm, layout=layout)
    if algorithm == 'cnn_mae':
        backbone_state = unwrap_state_dict(state_dict, CNN_MAE_ENCODER_PREFIX)[0]
        if densenet_layout == 'mmpretrain':
            backbone_state = densenet_torchvision_to_mmpretrain(backbone_state)
        check_loads(
            densenet_from_layout(densenet_layout), backbone_state, checkpoint_file
        )
        meta['densenet_layout'] = densenet_layout
    elif algorithm in ('vit', 'evax'):
        backbone_state = unwrap_state_dict(state_dict, BACKBONE_PREFIX)[0]
        build = vit_from_state_dict if algorithm == 'vit' else evax_from_state_dict
        backbone = build(backbone_state, num_heads)
        check_loads(
            backbone,
            backbone_state,
            checkpoint_file,
            allowed_missing=('ln2.*', 'fc_norm.*'),
        )
        if layout == 'timm':
            if algorithm == 'vit':
                backbone_state = rename(
                    backbone_state, MMPRETRAIN_TO_TIMM_VIT, 'timm ViT'
                )
            create_args = timm_create_args(algorithm, backbone)
            meta['timm_create_model'] = repr(create_args)
            print(f'timm.create_model(pretrained=False, **{create_args})')
    else:
        raise ValueError(f'unknown algorithm {algorithm!r}')
    saved = {key_prefix + key: value for key, value in backbone_state.items()}
    save_weights(saved, out_file, meta)
    print(f'saved {len(saved)} tensors ({algorithm}, {layout} names) to {out_file}')
    return backbone_state


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        'checkpoint', help='pretraining / training checkpoint (mmengine)'
    )
    parser.add_argument(
        'out', help='backbone checkpoint to write (.pth or .safetensors)'
    )
    parser.add_argument(
        '--algorithm', default='auto', choices=['auto', 'vit', 'evax', 'cnn_mae']
    )
    parser.add_argument(
        '--layout',
        default='cxr',
        choices=['cxr', 'timm'],
        help='key names: ours (CXRViT/EVAX) or timm (vit_*/eva02_*)',
    )
    parser.add_argument(
        '--densenet-layout',
        default='torchvision',
        choices=['torchvision', 'mmpretrain'],
    )
    parser.add_argument(
        '--key-prefix', default='', help="prefix for every key, e.g. 'backbone.'"
    )
    parser.add_argument(
        '--num-heads', type=int, help='attention heads (default: head dim 64)'
    )
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    export_backbone(
        args.checkpoint,
        args.out,
        args.algorithm,
        args.densenet_layout,
        args.key_prefix,
        args.layout,
        args.num_heads,
    )
    return 0


if __name__ == '__main__':
    sys.exit(main())
