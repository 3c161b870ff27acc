"""Classify chest radiographs (PNG / JPEG / DICOM) with a trained config + checkpoint.

The model is built with mmpretrain's ``get_model`` and images go through the
config's own test pipeline (``LoadXRayImage`` reads DICOM, MONOCHROME1 included).
What is ours: class names from the checkpoint / dataset metainfo, an explicit
resize when the test pipeline has none (demo configs feed 64-px images as
they are; a 1024-px radiograph must be resized to the backbone's input), and
per-class probabilities as a ``{class: prob}`` dict.
"""

from __future__ import annotations

import copy
import os
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path

import torch
from mmengine.config import Config
from mmengine.dataset import Compose, pseudo_collate
from torch import nn

from cxr_plugins.datasets.transforms.loading import (
    IMAGE_SUFFIXES,
    BadXRayImageError,
    is_image_file,
)

#: Pipeline steps that already fix the input size.
RESIZING_TRANSFORMS = (
    'Resize',
    'ResizeEdge',
    'CenterCrop',
    'RandomResizedCrop',
    'FastXRayRandomResizedCrop',
)


def _load_config(config: str | os.PathLike | Config) -> Config:
    return config if isinstance(config, Config) else Config.fromfile(str(config))


def class_names_from_config(cfg: Config) -> list[str]:
    """Class names of the test dataset: ``metainfo.classes`` or the dataset's METAINFO.

    Raises:
        KeyError: Neither the config nor the dataset class names them.
    """
    from mmpretrain.registry import DATASETS

    dataset_cfg = cfg.test_dataloader.dataset
    classes = (dataset_cfg.get('metainfo') or {}).get('classes')
    if classes:
        return list(classes)
    dataset_cls = DATASETS.get(dataset_cfg['type'])
    classes = getattr(dataset_cls, 'METAINFO', {}).get('classes')
    if not classes:
        raise KeyError(
            f'test_dataloader.dataset ({dataset_cfg["type"]}) names no classes; '
            'set test_dataloader.dataset.metainfo.classes in the config'
        )
    return list(classes)


def init_classifier(
    config: str | os.PathLike | Config,
    checkpoint: str | os.PathLike | None = None,
    device: str | torch.device = 'cpu',
) -> nn.Module:
    """Build a classifier from a config and load its trained weights.

    Args:
        config: Config path or object (any ``ImageClassifier`` config).
        checkpoint: Trained checkpoint (``tools/train.py`` output or a converted
            seed checkpoint with ``backbone.*`` + ``head.*``). ``None`` keeps the
            random initialisation (tests only).
        device: Where to run.

    Returns:
        The model in eval mode with ``cfg`` and ``dataset_meta['classes']`` set.
    """
    from mmengine.runner.checkpoint import CheckpointLoader
    from mmpretrain.apis import get_model

    import cxr_plugins  # noqa: F401  (registers our modules)
    from cxr_plugins.engine.checkpoint import (
        load_state_dict_strictly,
        unwrap_state_dict,
    )

    cfg = copy.deepcopy(_load_config(config))
    # The backbone's pretraining checkpoint is irrelevant once trained weights load.
    cfg.model.backbone.pop('init_cfg', None)
    model = get_model(cfg, pretrained=False, device=device)
    classes = None
    if checkpoint is not None:
        # strict: a classifier with missing weights must not predict anything.
        loaded = CheckpointLoader.load_checkpoint(str(checkpoint), map_location='cpu')
        state_dict, _ = unwrap_state_dict(loaded, source=str(checkpoint))
        load_state_dict_strictly(model, state_dict, str(checkpoint))
        meta = loaded.get('meta') if isinstance(loaded.get('meta'), dict) else {}
        classes = meta.get('dataset_meta', {}).get('classes')
    model.dataset_meta = {'classes': list(classes or class_names_from_config(cfg))}
    model.cfg = cfg
    model.to(device)
    model.eval()
    return model


def build_test_pipeline(
    cfg: Config, img_size: int | None = None, whole_image: bool = False
) -> Compose:
    """The config's test pipeline, with a resize inserted when it has none.

    Args:
        cfg: Model config.
        img_size: Square input size for the inserted ``Resize``; defaults to
            ``model.backbone.img_size``. Not used when the pipeline resizes.
        whole_image: Replace the pipeline's resize / crop steps by one plain
            ``Resize`` to ``img_size``, so that the input shows the whole image
            and image coordinates map linearly (CAM-vs-box evaluation).
    """
    pipeline = copy.deepcopy(list(cfg.test_dataloader.dataset.pipeline))
    if whole_image:
        pipeline = [
            step for step in pipeline if step['type'] not in RESIZING_TRANSFORMS
        ]
    if not any(step['type'] in RESIZING_TRANSFORMS for step in pipeline):
        size = img_size or cfg.model.backbone.get('img_size')
        if size is None:
            raise KeyError(
                'the test pipeline has no resize and model.backbone has '
                'no img_size; pass img_size'
            )
        loader = next(
            (i for i, step in enumerate(pipeline) if step['type'].startswith('Load')),
            None,
        )
        if loader is None:
            raise KeyError('the test pipeline has no Load* step')
        pipeline.insert(
            loader + 1,
            dict(
                type='Resize',
                scale=(size, size),
                interpolation='bicubic',
                backend='pillow',
            ),
        )
    from mmpretrain.registry import TRANSFORMS

    return Compose([TRANSFORMS.build(step) for step in pipeline])


def model_pipeline(
    model: nn.Module, img_size: int | None = None, whole_image: bool = False
) -> Compose:
    """Cached :func:`build_test_pipeline` for a model from :func:`init_classifier`."""
    key = (img_size, whole_image)
    cached = getattr(model, '_cxr_pipeline_cache', None)
    if cached is None or cached[0] != key:
        cached = (key, build_test_pipeline(model.cfg, img_size, whole_image))
        model._cxr_pipeline_cache = cached
    return cached[1]


def prepare_batch(
    model: nn.Module,
    paths: Sequence[str | os.PathLike],
    img_size: int | None = None,
    whole_image: bool = False,
) -> dict:
    """Run the test pipeline on ``paths`` and collate (not yet normalised)."""
    pipeline = model_pipeline(model, img_size, whole_image)
    return pseudo_collate([pipeline(dict(img_path=str(path))) for path in paths])


def prepare_batch_skipping(
    model: nn.Module,
    paths: Sequence[str | os.PathLike],
    img_size: int | None = None,
) -> tuple[dict | None, list, list[tuple[str, str]]]:
    """:func:`prepare_batch` that sets unreadable images aside.

    Returns:
        ``(batch or None, the paths in it, [(path, reason), ...] skipped)``;
        only :class:`BadXRayImageError` is skipped, anything else raises.
    """
    pipeline = model_pipeline(model, img_size)
    samples, kept, skipped = [], [], []
    for path in paths:
        try:
            samples.append(pipeline(dict(img_path=str(path))))
        except BadXRayImageError as err:
            skipped.append((str(path), err.reason))
            continue
        kept.append(path)
    return (pseudo_collate(samples) if samples else None), kept, skipped


@torch.no_grad()
def predict_batch(
    model: nn.Module, paths: Sequence[str | os.PathLike], img_size: int | None = None
) -> list[dict[str, float]]:
    """Per-class probabilities for a batch of images.

    Probabilities are the head's ``pred_score`` (sigmoid for multi-label heads,
    softmax for single-label ones).
    """
    samples = model.test_step(prepare_batch(model, paths, img_size))
    names = model.dataset_meta['classes']
    results = []
    for sample in samples:
        scores = sample.pred_score.detach().cpu().tolist()
        if len(scores) != len(names):
            raise ValueError(
                f'the head predicts {len(scores)} classes, the class '
                f'list has {len(names)}: {names}'
            )
        results.append(dict(zip(names, scores)))
    return results


def predict_image(
    model: nn.Module, path: str | os.PathLike, img_size: int | None = None
) -> dict[str, float]:
    """Per-class probabilities for one image (PNG / JPEG / DICOM)."""
    return predict_batch(model, [path], img_size)[0]


def find_images(inputs: Iterable[str | os.PathLike]) -> list[Path]:
    """Expand folders (recursively) and ``.txt`` lists into image files.

    A folder contributes the files with a suffix of :data:`IMAGE_SUFFIXES` and
    suffix-less files with DICOM content (PACS exports such as ``IM0001``).

    Raises:
        FileNotFoundError: An input does not exist or a folder holds no image.
    """
    found: list[Path] = []
    for item in map(Path, inputs):
        if item.is_dir():
            images = sorted(
                path
                for path in item.rglob('*')
                if path.is_file() and is_image_file(path)
            )
            if not images:
                raise FileNotFoundError(
                    f'{item}: no {IMAGE_SUFFIXES} or DICOM files inside'
                )
            found += images
        elif item.suffix == '.txt':
            lines = [line.strip() for line in item.read_text().splitlines()]
            found += find_images(
                [
                    item.parent / line if not Path(line).is_absolute() else line
                    for line in lines
                    if line
                ]
            )
        elif item.is_file():
            found.append(item)
        else:
            raise FileNotFoundError(f'{item}: no such file or folder')
    return found


def batched(items: Sequence, size: int) -> Iterator[Sequence]:
    """Consecutive chunks of ``size`` items."""
    for start in range(0, len(items), size):
        yield items[start : start + size]
