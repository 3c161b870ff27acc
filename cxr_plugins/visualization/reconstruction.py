"""Original / masked / reconstruction figures for masked image modelling.

The layout of the MAE paper's figures (He et al., https://arxiv.org/abs/2111.06377,
Fig. 2), as Medical MAE shows its chest X-ray reconstructions
(https://arxiv.org/abs/2210.12843). For feature-regression MIM (EVA-X style)
the third column is the per-patch cosine similarity between the student's
prediction and the teacher's feature instead of pixels.
"""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use('Agg')
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import torch  # noqa: E402


def denormalize(
    images: torch.Tensor, mean: torch.Tensor, std: torch.Tensor
) -> np.ndarray:
    """Undo the data preprocessor's normalisation and return grey images.

    Args:
        images: ``(B, C, H, W)`` normalised images.
        mean: ``(C, 1, 1)`` (or broadcastable) mean in 0-255 units.
        std: ``(C, 1, 1)`` std in 0-255 units.

    Returns:
        ``(B, H, W)`` float array in ``[0, 1]`` (channel mean).
    """
    pixels = images.detach().cpu() * std.cpu() + mean.cpu()
    return (pixels.mean(dim=1) / 255.0).clamp(0, 1).numpy()


def save_reconstruction_grid(
    originals: np.ndarray,
    masked: np.ndarray,
    third: np.ndarray,
    out_file: str | Path,
    third_title: str = 'reconstruction',
    third_is_similarity: bool = False,
    titles: list[str] | None = None,
) -> Path:
    """Save a grid with one row per image: original | masked | third column.

    Args:
        originals: ``(B, H, W)`` images in ``[0, 1]``.
        masked: ``(B, H, W)`` masked images in ``[0, 1]``.
        third: ``(B, H, W)`` reconstructions in ``[0, 1]``, or cosine
            similarities in ``[-1, 1]`` when ``third_is_similarity``.
        out_file: PNG path (parent folders are created).
        third_title: Title of the third column.
        third_is_similarity: Draw the third column with a diverging colour map
            and a colour bar instead of grey levels.
        titles: Optional row labels (e.g. file names).

    Returns:
        The written path.
    """
    num_rows = originals.shape[0]
    if not masked.shape[0] == third.shape[0] == num_rows:
        raise ValueError(
            'originals, masked and third need the same batch size, '
            f'got {originals.shape[0]}, {masked.shape[0]}, '
            f'{third.shape[0]}'
        )
    figure, axes = plt.subplots(
        num_rows, 3, figsize=(7.5, 2.6 * num_rows), squeeze=False
    )
    for row in range(num_rows):
        axes[row, 0].imshow(originals[row], cmap='gray', vmin=0, vmax=1)
        axes[row, 1].imshow(masked[row], cmap='gray', vmin=0, vmax=1)
        if third_is_similarity:
            image = axes[row, 2].imshow(third[row], cmap='RdBu_r', vmin=-1, vmax=1)
            figure.colorbar(image, ax=axes[row, 2], fraction=0.046, pad=0.04)
        else:
            axes[row, 2].imshow(third[row], cmap='gray', vmin=0, vmax=1)
        if titles is not None:
            axes[row, 0].set_ylabel(titles[row], fontsize=7)
        for column, name in enumerate(('original', 'masked', third_title)):
            axes[row, column].set_xticks([])
            axes[row, column].set_yticks([])
            if row == 0:
                axes[row, column].set_title(name)
    figure.tight_layout()
    out_path = Path(out_file)
    out_path.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(out_path, dpi=120)
    plt.close(figure)
    return out_path
