"""Show MSMAE's attention maps and masked / thrown / kept patch layouts.

Mao et al., MSMAE (https://arxiv.org/abs/2305.05871). For each image of the
training set (deterministic resize of the attention-refresh pipeline), plots
the image, its last-block CLS->patch attention (head-normalised, as stored by
``MSMAEAttentionHook``) and one attention-driven split: masked patches red,
thrown patches dark, kept patches shown as they are.

Example::

    python tools/analysis/vis_msmae.py \
        configs/pretrain/msmae/msmae_vit-demo-p8_dec128d2b_1xb32-30e_nih14-demo-64px.py \
        work_dirs/pretrain_b/msmae_demo/epoch_30.pth --out work_dirs/pretrain_b/msmae.png
"""  # noqa: E501

from __future__ import annotations

import argparse
from pathlib import Path

import matplotlib
import numpy as np
import torch
from mmengine.config import Config
from mmengine.dataset import default_collate
from mmengine.runner import load_checkpoint
from mmpretrain.registry import DATASETS, MODELS

import cxr_plugins  # noqa: F401  (registration)
from cxr_plugins.models.selfsup.attention_masking import (
    MASKED,
    THROWN,
    attention_mask_throw,
)

matplotlib.use('Agg')
import matplotlib.pyplot as plt  # noqa: E402


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument('config')
    parser.add_argument('checkpoint')
    parser.add_argument('--out', required=True, help='output PNG')
    parser.add_argument('--num-images', type=int, default=6)
    parser.add_argument('--seed', type=int, default=0)
    parser.add_argument(
        '--use-stored',
        action='store_true',
        help='plot the maps stored in the checkpoint instead of '
        'recomputing them with its weights',
    )
    return parser.parse_args(argv)


def layout_image(
    image: np.ndarray, codes: np.ndarray, grid: tuple[int, int]
) -> np.ndarray:
    """Tint masked patches red and darken thrown ones on an RGB image in [0, 1]."""
    height, width = image.shape[:2]
    cell_h, cell_w = height // grid[0], width // grid[1]
    out = image.copy()
    for index, code in enumerate(codes):
        row, col = divmod(index, grid[1])
        cell = out[row * cell_h : (row + 1) * cell_h, col * cell_w : (col + 1) * cell_w]
        if code == MASKED:
            cell[:] = 0.4 * cell + 0.6 * np.array([1.0, 0.1, 0.1])
        elif code == THROWN:
            cell[:] = 0.15 * cell
    return out


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    cfg = Config.fromfile(args.config)
    model = MODELS.build(cfg.model)
    load_checkpoint(model, args.checkpoint, map_location='cpu')
    model.eval()
    hooks = [
        h for h in cfg.get('custom_hooks', []) if h['type'] == 'MSMAEAttentionHook'
    ]
    if not hooks:
        raise KeyError(f'{args.config}: no MSMAEAttentionHook in custom_hooks')
    dataset_cfg = cfg.train_dataloader.dataset.copy()
    dataset_cfg['pipeline'] = hooks[0]['pipeline']
    dataset = DATASETS.build(dataset_cfg)
    batch = default_collate([dataset[i] for i in range(args.num_images)])
    data = model.data_preprocessor(batch, False)
    with torch.no_grad():
        if args.use_stored:
            if not model.has_attention_maps:
                raise ValueError(f'{args.checkpoint}: no stored attention maps')
            indices = torch.tensor([s.sample_idx for s in data['data_samples']])
            maps = model.attention_maps[indices]
        else:
            maps = model.backbone.cls_attention_maps(data['inputs'])
    split = attention_mask_throw(
        maps.flatten(1),
        model.mask_ratio,
        model.throw_ratio,
        generator=torch.Generator().manual_seed(args.seed),
    )
    grid = tuple(maps.shape[1:])
    fig, axes = plt.subplots(
        3, args.num_images, figsize=(2.2 * args.num_images, 6.8), squeeze=False
    )
    for i in range(args.num_images):
        image = batch['inputs'][i].permute(1, 2, 0).float().numpy() / 255.0
        axes[0, i].imshow(image, cmap='gray')
        axes[0, i].set_title(
            Path(dataset.get_data_info(i)['img_path']).name, fontsize=7
        )
        axes[1, i].imshow(image, cmap='gray')
        axes[1, i].imshow(
            maps[i].numpy(),
            cmap='jet',
            alpha=0.5,
            extent=(0, image.shape[1], image.shape[0], 0),
            interpolation='nearest',
        )
        axes[2, i].imshow(layout_image(image, split.codes[i].numpy(), grid))
        for row in range(3):
            axes[row, i].axis('off')
    axes[1, 0].set_title('CLS attention', fontsize=8, loc='left')
    axes[2, 0].set_title(
        f'masked {split.num_masked} (red) / thrown {split.num_thrown} (dark) / kept '
        f'{split.codes.shape[1] - split.num_masked - split.num_thrown}',
        fontsize=8,
        loc='left',
    )
    fig.tight_layout()
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(out, dpi=120)
    print(f'saved {out}')


if __name__ == '__main__':
    main()
