"""Format-independent pieces of checkpoint conversion.

Unwrapping training checkpoints, matching mapped tensors against the target
model (with position-embedding and patch-embedding resampling), and the report
of what loaded. The seed repositories load with ``strict=False`` and never say
what was skipped; here every key ends up in exactly one bucket of
:class:`ConversionReport` and too little coverage is an error.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field

import torch

#: Keys under which training scripts nest the weights, in the order EVA-X's
#: ``checkpoint_filter_fn`` tries them (EMA weights first).
WRAPPER_KEYS = ('model_ema', 'model', 'module', 'state_dict')

#: Below this fraction of filled backbone elements the conversion fails.
MIN_FILLED_FRACTION = 0.9


class ConversionError(RuntimeError):
    """A checkpoint cannot be converted into the requested target."""


@dataclass
class MappedWeights:
    """Source tensors renamed to target key names.

    Attributes:
        backbone: Tensors for the backbone, keyed by backbone parameter names.
        head: Classifier tensors keyed ``fc.weight`` / ``fc.bias`` (mmpretrain
            ``LinearClsHead`` names), empty when the source has no classifier.
        dropped: Source keys that are deliberately not used, with the reason
            (MAE decoder, MoCo key encoder, ...).
        unmapped: Source keys no rule knows; they are reported as unexpected.
    """

    backbone: dict[str, torch.Tensor] = field(default_factory=dict)
    head: dict[str, torch.Tensor] = field(default_factory=dict)
    dropped: dict[str, str] = field(default_factory=dict)
    unmapped: list[str] = field(default_factory=list)


@dataclass
class ConversionReport:
    """What happened to every key during a conversion."""

    source_format: str
    loaded: list[str] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)
    unexpected: list[str] = field(default_factory=list)
    mismatched: list[str] = field(default_factory=list)
    reshaped: list[str] = field(default_factory=list)
    renamed: list[str] = field(default_factory=list)
    dropped: dict[str, str] = field(default_factory=dict)
    head: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    filled_fraction: float = 0.0

    def format(self) -> str:
        """A human-readable multi-line summary."""
        lines = [
            f'source format: {self.source_format}',
            f'backbone tensors loaded: {len(self.loaded)} '
            f'({100 * self.filled_fraction:.1f}% of backbone elements)',
        ]
        sections = [
            ('reshaped', self.reshaped),
            ('renamed', self.renamed),
            ('missing (left at init)', self.missing),
            ('unexpected (not in target)', self.unexpected),
            ('shape mismatch (not loaded)', self.mismatched),
            ('head tensors written', self.head),
        ]
        for title, keys in sections:
            lines.append(f'{title}: {len(keys)}')
            lines += [f'  {key}' for key in keys]
        reasons: dict[str, list[str]] = {}
        for key, reason in self.dropped.items():
            reasons.setdefault(reason, []).append(key)
        lines.append(f'dropped on purpose: {len(self.dropped)}')
        for reason, keys in reasons.items():
            lines.append(f'  {len(keys)} x {reason} (e.g. {keys[0]})')
        lines += [f'note: {note}' for note in self.notes]
        return '\n'.join(lines)


def unwrap_checkpoint(checkpoint: Mapping) -> tuple[dict[str, torch.Tensor], str]:
    """Find the state dict inside a training checkpoint.

    Args:
        checkpoint: What ``torch.load`` returned.

    Returns:
        The tensors of the state dict and the wrapper key they came from
        (``''`` for a bare state dict).

    Raises:
        ConversionError: Nothing in the checkpoint looks like a state dict.
    """
    for key in WRAPPER_KEYS:
        value = checkpoint.get(key)
        if isinstance(value, Mapping) and any(
            isinstance(item, torch.Tensor) for item in value.values()
        ):
            return _tensors_only(value), key
    if any(isinstance(item, torch.Tensor) for item in checkpoint.values()):
        return _tensors_only(checkpoint), ''
    raise ConversionError(
        f'no state dict found: top-level keys are {sorted(checkpoint)[:10]}, '
        f'expected one of {WRAPPER_KEYS} holding tensors or a bare state dict'
    )


def _tensors_only(state: Mapping) -> dict[str, torch.Tensor]:
    return {
        key: value for key, value in state.items() if isinstance(value, torch.Tensor)
    }


def strip_prefixes(
    state_dict: Mapping[str, torch.Tensor], prefixes: tuple[str, ...]
) -> dict[str, torch.Tensor]:
    """Remove each leading prefix in ``prefixes`` that every key carries.

    Prefixes are tried in order and only stripped when *all* keys have them
    (``module.`` from DataParallel, ``model.`` from a wrapper module ...).
    """
    state = dict(state_dict)
    for prefix in prefixes:
        if state and all(key.startswith(prefix) for key in state):
            state = {key[len(prefix) :]: value for key, value in state.items()}
    return state


def resample_position_embedding(
    pos_embed: torch.Tensor, new_num_patches: int, num_prefix_tokens: int = 1
) -> torch.Tensor:
    """Bicubically resample a square absolute position-embedding grid.

    As ``interpolate_pos_embed`` in MAE / Medical MAE: prefix (cls) tokens are
    kept, the grid is resized. Uses timm's ``resample_abs_pos_embed``.

    Args:
        pos_embed: ``(1, prefix + h*w, C)``.
        new_num_patches: Number of patches of the target grid (a square).
        num_prefix_tokens: Tokens before the grid.

    Returns:
        ``(1, prefix + new_num_patches, C)``.
    """
    from timm.layers import resample_abs_pos_embed

    old_side = math.isqrt(pos_embed.shape[1] - num_prefix_tokens)
    new_side = math.isqrt(new_num_patches)
    if old_side**2 != pos_embed.shape[1] - num_prefix_tokens or (
        new_side**2 != new_num_patches
    ):
        raise ConversionError(
            f'pos_embed: only square grids can be resampled, got '
            f'{pos_embed.shape[1] - num_prefix_tokens} -> {new_num_patches} patches'
        )
    return resample_abs_pos_embed(
        pos_embed.float(),
        [new_side, new_side],
        [old_side, old_side],
        num_prefix_tokens=num_prefix_tokens,
    ).to(pos_embed.dtype)


def resample_patch_projection(weight: torch.Tensor, new_size: int) -> torch.Tensor:
    """Resample a patch-embedding kernel to a new patch size.

    FlexiViT's pseudo-inverse resize (Beyer et al., https://arxiv.org/abs/2212.08013)
    via timm's ``resample_patch_embed``, which EVA-X also applies on load.
    """
    from timm.layers import resample_patch_embed

    return resample_patch_embed(weight.float(), [new_size, new_size]).to(weight.dtype)


def fit_to_target(
    mapped: MappedWeights,
    target_state: Mapping[str, torch.Tensor],
    source_format: str,
    resamplers: Mapping[str, callable] | None = None,
    min_filled_fraction: float = MIN_FILLED_FRACTION,
) -> tuple[dict[str, torch.Tensor], ConversionReport]:
    """Match mapped tensors to the target backbone's state dict.

    Args:
        mapped: Output of a format mapper.
        target_state: ``backbone.state_dict()`` of the target model.
        source_format: Name used in the report.
        resamplers: ``{target_key: fn(source, target_shape) -> tensor}`` for keys
            whose shape may legitimately differ (position / patch embedding).
        min_filled_fraction: Raise when fewer target elements were filled.

    Returns:
        The backbone state dict to save and the report.

    Raises:
        ConversionError: Less than ``min_filled_fraction`` of the backbone's
            elements would come from the checkpoint.
    """
    resamplers = dict(resamplers or {})
    report = ConversionReport(source_format=source_format, dropped=dict(mapped.dropped))
    report.unexpected = list(mapped.unmapped)
    fitted: dict[str, torch.Tensor] = {}
    for key, tensor in mapped.backbone.items():
        if key not in target_state:
            report.unexpected.append(key)
            continue
        expected = tuple(target_state[key].shape)
        if tuple(tensor.shape) != expected and key in resamplers:
            tensor = resamplers[key](tensor, expected)
            report.reshaped.append(key)
        if tuple(tensor.shape) != expected:
            report.mismatched.append(
                f'{key}: checkpoint {tuple(tensor.shape)} vs model {expected}'
            )
            continue
        fitted[key] = tensor.to(target_state[key].dtype).contiguous()
        report.loaded.append(key)
    counted = {
        key: value
        for key, value in target_state.items()
        if not key.endswith('num_batches_tracked')
    }
    # BatchNorm step counters are bookkeeping, absent from pre-0.4 checkpoints.
    report.missing = [key for key in counted if key not in fitted]
    total = sum(value.numel() for value in counted.values())
    filled = sum(counted[key].numel() for key in fitted if key in counted)
    report.filled_fraction = filled / max(total, 1)
    if report.filled_fraction < min_filled_fraction:
        raise ConversionError(
            f'only {100 * report.filled_fraction:.1f}% of the backbone elements '
            f'were filled from the {source_format} checkpoint (need '
            f'{100 * min_filled_fraction:.0f}%); wrong --format or --arch?\n'
            + report.format()
        )
    return fitted, report
