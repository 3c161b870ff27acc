"""Format-independent pieces of checkpoint conversion.

Matching mapped tensors against the target model (with position-embedding and
patch-embedding resampling) and the report of what happened to every key. The
seed repositories load with ``strict=False`` and never say what was skipped;
here every source key ends up in exactly one category (mapped to the backbone,
written to the head, or dropped by a named rule) and every target key is
either filled or named as initialised fresh. Anything else is an error:
a source key no rule knows, a mapped key the target does not have, a shape
that cannot be resampled, a target key nothing fills.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass, field

import torch

from cxr_plugins.engine.checkpoint import CheckpointMismatchError, unwrap_state_dict


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
        unmapped: Source keys no rule knows (a conversion error).
    """

    backbone: dict[str, torch.Tensor] = field(default_factory=dict)
    head: dict[str, torch.Tensor] = field(default_factory=dict)
    dropped: dict[str, str] = field(default_factory=dict)
    unmapped: list[str] = field(default_factory=list)


@dataclass
class ConversionReport:
    """What happened to every key during a conversion.

    ``mapped`` / ``head`` / ``dropped`` partition the source keys; ``mapped``
    + ``fresh`` are the target backbone's keys. ``resampled`` is the subset of
    ``mapped`` whose grid or kernel was resized.
    """

    source_format: str
    mapped: list[str] = field(default_factory=list)
    resampled: list[str] = field(default_factory=list)
    head: list[str] = field(default_factory=list)
    dropped: dict[str, str] = field(default_factory=dict)
    fresh: dict[str, str] = field(default_factory=dict)
    unmapped: list[str] = field(default_factory=list)
    unexpected: list[str] = field(default_factory=list)
    mismatched: list[str] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def errors(self) -> list[str]:
        """One line per problem that makes the conversion fail."""
        lines = [f'source key no rule maps or drops: {key}' for key in self.unmapped]
        lines += [
            f'mapped key the target does not have: {key}' for key in self.unexpected
        ]
        lines += [f'shape mismatch: {line}' for line in self.mismatched]
        lines += [f'target key nothing fills: {key}' for key in self.missing]
        return lines

    def counts(self) -> dict[str, int]:
        """Number of keys per category."""
        return dict(
            mapped=len(self.mapped),
            resampled=len(self.resampled),
            head=len(self.head),
            dropped_by_rule=len(self.dropped),
            fresh_init=len(self.fresh),
            errors=len(self.errors),
        )

    def to_json(self) -> str:
        """The report as JSON (counts first, then every key)."""
        return json.dumps(dict(counts=self.counts(), **asdict(self)), indent=1)

    def format(self) -> str:
        """A human-readable multi-line summary."""
        counts = self.counts()
        lines = [
            f'source format: {self.source_format}',
            'keys: ' + ', '.join(f'{name} {count}' for name, count in counts.items()),
        ]
        lines += [f'  resampled: {key}' for key in self.resampled]
        lines += [f'  head: {key}' for key in self.head]
        for title, table in (
            ('dropped by rule', self.dropped),
            ('fresh init', self.fresh),
        ):
            reasons: dict[str, list[str]] = {}
            for key, reason in table.items():
                reasons.setdefault(reason, []).append(key)
            for reason, keys in reasons.items():
                lines.append(f'  {title}: {len(keys)} x {reason} (e.g. {keys[0]})')
        lines += [f'  ERROR {line}' for line in self.errors]
        lines += [f'note: {note}' for note in self.notes]
        return '\n'.join(lines)


def unwrap_checkpoint(checkpoint: Mapping) -> tuple[dict[str, torch.Tensor], str]:
    """The state dict of a training checkpoint (see ``unwrap_state_dict``).

    ``module.`` prefixes are kept here: the format mappers strip them, and
    some formats (MoCo, BYOL) need to see them.
    """
    try:
        return unwrap_state_dict(checkpoint, source='source checkpoint')
    except CheckpointMismatchError as error:
        raise ConversionError(str(error)) from error


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
    """Resample a square absolute position-embedding grid as the seeds do.

    ``F.interpolate(mode='bicubic', align_corners=False)`` without
    antialiasing, prefix (cls) tokens kept: the kernel of MAE's / Medical
    MAE's / MRM's / MSMAE's ``interpolate_pos_embed`` and EVA-X's
    ``interpolate14to16.py``. It is mmpretrain's ``resize_pos_embed``, which
    ``CXRViT`` and ``EVAX`` also use on load. (timm's ``resample_abs_pos_embed``
    antialiases, a different kernel: 2e-3 relative off at 512 px.)

    Args:
        pos_embed: ``(1, prefix + h*w, C)``.
        new_num_patches: Number of patches of the target grid (a square).
        num_prefix_tokens: Tokens before the grid.

    Returns:
        ``(1, prefix + new_num_patches, C)``.
    """
    from mmpretrain.models.utils import resize_pos_embed

    old_side = math.isqrt(pos_embed.shape[1] - num_prefix_tokens)
    new_side = math.isqrt(new_num_patches)
    if old_side**2 != pos_embed.shape[1] - num_prefix_tokens or (
        new_side**2 != new_num_patches
    ):
        raise ConversionError(
            f'pos_embed: only square grids can be resampled, got '
            f'{pos_embed.shape[1] - num_prefix_tokens} -> {new_num_patches} patches'
        )
    return resize_pos_embed(
        pos_embed,
        (old_side, old_side),
        (new_side, new_side),
        mode='bicubic',
        num_extra_tokens=num_prefix_tokens,
    )


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
    resamplers: Mapping[str, Callable] | None = None,
    fresh: Mapping[str, str] | None = None,
) -> tuple[dict[str, torch.Tensor], ConversionReport]:
    """Match mapped tensors to the target backbone's state dict.

    Args:
        mapped: Output of a format mapper.
        target_state: ``backbone.state_dict()`` of the target model.
        source_format: Name used in the report.
        resamplers: ``{target_key: fn(source, target_shape) -> tensor}`` for keys
            whose shape may legitimately differ (position / patch embedding).
        fresh: ``{fnmatch pattern: reason}`` of target keys that may stay at
            their initialisation when the source has no tensor for them
            (``fc_norm`` of a pretraining checkpoint).

    Returns:
        The backbone state dict to save and the report.

    Raises:
        ConversionError: Any key outside the categories (see
            :attr:`ConversionReport.errors`), with the full report.
    """
    import fnmatch

    resamplers = dict(resamplers or {})
    report = ConversionReport(source_format=source_format, dropped=dict(mapped.dropped))
    report.unmapped = list(mapped.unmapped)
    fitted: dict[str, torch.Tensor] = {}
    for key, tensor in mapped.backbone.items():
        if key not in target_state:
            report.unexpected.append(key)
            continue
        expected = tuple(target_state[key].shape)
        if tuple(tensor.shape) != expected and key in resamplers:
            tensor = resamplers[key](tensor, expected)
            report.resampled.append(key)
        if tuple(tensor.shape) != expected:
            report.mismatched.append(
                f'{key}: checkpoint {tuple(tensor.shape)} vs model {expected}'
            )
            continue
        fitted[key] = tensor.to(target_state[key].dtype).contiguous()
        report.mapped.append(key)
    for key in target_state:
        if key in fitted:
            continue
        if key.endswith('num_batches_tracked'):
            # BatchNorm step counters: bookkeeping, absent from pre-0.4 files.
            report.fresh[key] = 'BatchNorm step counter'
            continue
        reason = next(
            (
                why
                for pattern, why in (fresh or {}).items()
                if fnmatch.fnmatchcase(key, pattern)
            ),
            None,
        )
        if reason is None:
            report.missing.append(key)
        else:
            report.fresh[key] = reason
    if report.errors:
        raise ConversionError(
            f'the {source_format} checkpoint does not convert cleanly '
            f'({len(report.errors)} problems; wrong --format or --arch?):\n'
            + report.format()
        )
    return fitted, report
