"""EVA-X: EVA-02 Vision Transformers for chest X-rays.

Yao et al., "EVA-X: A Foundation Model for General Chest X-ray Analysis with
Self-supervised Learning" (https://arxiv.org/abs/2405.05237), built on Fang et
al., "EVA-02: A Visual Representation for Neon Genesis"
(https://arxiv.org/abs/2303.11331).

The blocks, 2-D RoPE and patch embedding are timm's ``Eva`` modules, which
EVA-X's own ``eva_x.py`` wraps. mmpretrain's ``ViTEVA02`` is *not* used: it
learns a bias for ``k`` (EVA-02 fixes it to zero) and has no separate
``q_proj/k_proj/v_proj`` for the sub-LN base model, so EVA-X weights would not
load into it unchanged.

Architecture per arch (EVA-X ``eva_x.py`` / ``models_eva.py``):

========  =====  =====  =====  ==================================  ======
arch      dim    depth  heads  MLP                                 sub-LN
========  =====  =====  =====  ==================================  ======
tiny      192    12     3      fused SwiGLU (``mlp.fc1``), 8/3     no
small     384    12     6      fused SwiGLU (``mlp.fc1``), 8/3     no
base      768    12     12     SwiGLU + ``mlp.norm`` (ffn_ln), 8/3  yes
========  =====  =====  =====  ==================================  ======

Shared: patch 16, pre-LN (eps 1e-6), no layer scale, absolute position
embedding with a cls token, 2-D RoPE on the patch queries/keys (the cls token
is not rotated) with frequencies referenced to a 14x14 grid, q/v bias with a
zero k bias, mean pooling of the patch tokens then ``fc_norm`` (no final norm).

Parameter names (what the EVA-X ``.pt`` converter must produce; these are the
names EVA-X's ``checkpoint_filter_fn`` gives, i.e. ``w12->mlp.fc1``,
``w1->mlp.fc1_g``, ``w2->mlp.fc1_x``, ``w3->mlp.fc2``, ``ffn_ln->mlp.norm``,
``norm->fc_norm``)::

    cls_token                          (1, 1, C)
    pos_embed                          (1, 1 + H*W, C)   resized on load
    patch_embed.proj.{weight,bias}     (C, 3, 16, 16)
    blocks.{i}.norm1.{weight,bias}
    blocks.{i}.attn.qkv.weight         (3C, C)   tiny/small
    blocks.{i}.attn.q_bias, .v_bias    (C,)      tiny/small (k bias is zero)
    blocks.{i}.attn.q_proj.{weight,bias}, .k_proj.weight,
        .v_proj.{weight,bias}                    base
    blocks.{i}.attn.proj.{weight,bias}
    blocks.{i}.norm2.{weight,bias}
    blocks.{i}.mlp.fc1.{weight,bias}   (2*F, C)  tiny/small (gate first half)
    blocks.{i}.mlp.fc1_g / fc1_x.{weight,bias}   (F, C)   base
    blocks.{i}.mlp.norm.{weight,bias}  (F,)      base (ffn_ln)
    blocks.{i}.mlp.fc2.{weight,bias}   (C, F)
    fc_norm.{weight,bias}

RoPE reference grid: EVA-X's fine-tuning code (``models_eva.py``) registers
the base model twice, and the later registration (the one its scripts get)
uses ``pt_hw_seq_len=16``; tiny and small use 14. ``rope_ref_grid`` defaults
to exactly that per arch (16 for base, 14 otherwise; ``eva_x.py``'s timm
wrapper says 14 for base, which is 1.25e-3 relative off the fine-tuning
model). Position embeddings are resampled with ``F.interpolate(bicubic,
align_corners=False)`` (mmpretrain's ``resize_pos_embed``), the kernel of the
seed, not timm's antialiased one. The seed's ``stop_grad_conv1`` is
``stop_grad_patch_embed``.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import torch
from mmengine.logging import MMLogger
from mmengine.model.weight_init import initialize
from mmpretrain.models.utils import resize_pos_embed
from mmpretrain.registry import MODELS
from timm.models.eva import Eva
from torch import nn

from cxr_plugins.engine.checkpoint import init_weights_then_load

EVAX_ARCHS: dict[str, dict] = {
    'tiny': dict(embed_dim=192, depth=12, num_heads=3),
    'small': dict(embed_dim=384, depth=12, num_heads=6),
    'base': dict(
        embed_dim=768, depth=12, num_heads=12, qkv_fused=False, scale_mlp=True
    ),
    # 2-layer model for CPU tests and demos (same block type as base).
    'demo-base': dict(
        embed_dim=64, depth=2, num_heads=2, qkv_fused=False, scale_mlp=True
    ),
    # 2-layer model for CPU tests and demos (same block type as tiny/small).
    'demo': dict(embed_dim=64, depth=2, num_heads=2),
}
EVAX_ARCHS['ti'] = EVAX_ARCHS['tiny']
EVAX_ARCHS['s'] = EVAX_ARCHS['small']
EVAX_ARCHS['b'] = EVAX_ARCHS['base']

_ARCH_KEYS = {'embed_dim', 'depth', 'num_heads', 'qkv_fused', 'scale_mlp'}


def default_rope_ref_grid(arch_cfg: dict) -> int:
    """EVA-X's RoPE reference grid: 16 for the sub-LN (base) blocks, else 14."""
    return 16 if arch_cfg.get('scale_mlp') else 14


@MODELS.register_module()
class EVAX(nn.Module):
    """EVA-X ViT backbone (EVA-02 blocks from timm) for mmpretrain.

    Args:
        arch: ``'tiny'``, ``'small'``, ``'base'`` (or ``'ti'``/``'s'``/``'b'``),
            ``'demo'`` (2 layers, 64-d), or a dict with ``embed_dim``, ``depth``,
            ``num_heads`` and optionally ``qkv_fused`` (False = separate
            q/k/v projections) and ``scale_mlp`` (sub-LN in the SwiGLU).
        img_size: Input size; the position embedding grid is
            ``img_size // patch_size``. Other input sizes also work at run
            time (position embedding and RoPE are resampled).
        patch_size: Patch size.
        in_channels: Input channels.
        drop_path_rate: Stochastic depth rate (linear over depth).
        out_type: ``'avg_featmap'`` (mean of patch tokens + ``fc_norm``,
            EVA-X fine-tuning), ``'cls_token'`` (cls token + ``fc_norm``) or
            ``'featmap'`` (``(B, C, H, W)`` patch features, for dense tasks).
        out_indices: Blocks whose output is returned (``featmap`` only; the
            pooled types always use the last block).
        rope_ref_grid: Grid size the RoPE frequencies refer to; ``None``
            takes the seed's value for the arch (16 for base, 14 otherwise,
            see the module docstring).
        stop_grad_patch_embed: Detach the patch embedding output (EVA-X's
            ``--stop_grad_conv1``, used for CheXpert Ti).
        init_cfg: mmengine init config, e.g. ``dict(type='Pretrained',
            checkpoint=..., prefix='backbone.')``.
        **eva_kwargs: Other arguments of ``timm.models.eva.Eva``.

    Example:
        >>> import torch
        >>> model = EVAX(arch='demo', img_size=32, patch_size=8)
        >>> model(torch.rand(2, 3, 32, 32))[0].shape
        torch.Size([2, 64])
    """

    OUT_TYPES = ('avg_featmap', 'cls_token', 'featmap')

    def __init__(
        self,
        arch: str | dict = 'small',
        img_size: int = 224,
        patch_size: int = 16,
        in_channels: int = 3,
        drop_path_rate: float = 0.0,
        out_type: str = 'avg_featmap',
        out_indices: int | Sequence[int] = -1,
        rope_ref_grid: int | None = None,
        stop_grad_patch_embed: bool = False,
        init_cfg: dict | list | None = None,
        **eva_kwargs,
    ) -> None:
        super().__init__()
        arch_cfg = self._arch_settings(arch)
        if out_type not in self.OUT_TYPES:
            raise ValueError(
                f'EVAX: out_type={out_type!r}; expected one of {self.OUT_TYPES}.'
            )
        if rope_ref_grid is None:
            rope_ref_grid = default_rope_ref_grid(arch_cfg)
        eva = Eva(
            img_size=img_size,
            patch_size=patch_size,
            in_chans=in_channels,
            num_classes=0,
            global_pool='avg',
            mlp_ratio=4 * 2 / 3,
            swiglu_mlp=True,
            qkv_bias=True,
            use_rot_pos_emb=True,
            ref_feat_shape=(rope_ref_grid, rope_ref_grid),
            drop_path_rate=drop_path_rate,
            dynamic_img_size=True,
            **arch_cfg,
            **eva_kwargs,
        )
        # Adopt timm's modules under their timm names (see module docstring).
        self.patch_embed = eva.patch_embed
        self.cls_token = eva.cls_token
        self.pos_embed = eva.pos_embed
        self.pos_drop = eva.pos_drop
        self.rope = eva.rope
        self.blocks = eva.blocks
        # Pooled outputs only: dense features skip it (as mmpretrain's ViT
        # builds ln2 for avg_featmap only), so no parameter goes unused.
        self.fc_norm = eva.fc_norm if out_type != 'featmap' else None

        self.embed_dims = arch_cfg['embed_dim']
        self.num_layers = arch_cfg['depth']
        self.out_type = out_type
        indices = [out_indices] if isinstance(out_indices, int) else out_indices
        self.out_indices = sorted(i % self.num_layers for i in indices)
        self.stop_grad_patch_embed = stop_grad_patch_embed
        self.init_cfg = init_cfg
        self._register_load_state_dict_pre_hook(self._resize_pos_embed_on_load)

    @staticmethod
    def _arch_settings(arch: str | dict) -> dict:
        if isinstance(arch, str):
            if arch.lower() not in EVAX_ARCHS:
                raise KeyError(
                    f'EVAX: unknown arch {arch!r}; expected one of '
                    f'{sorted(EVAX_ARCHS)} or a dict.'
                )
            return dict(EVAX_ARCHS[arch.lower()])
        unknown = set(arch) - _ARCH_KEYS
        missing = {'embed_dim', 'depth', 'num_heads'} - set(arch)
        if unknown or missing:
            raise KeyError(
                f'EVAX: arch dict has unknown keys {sorted(unknown)} / missing '
                f'keys {sorted(missing)}; allowed keys: {sorted(_ARCH_KEYS)}.'
            )
        return dict(arch)

    def init_weights(self) -> None:
        """Apply ``init_cfg`` (timm's EVA init is already done in ``__init__``).

        Strict ``CXRPretrained`` loads go through
        :func:`cxr_plugins.engine.checkpoint.init_weights_then_load`.
        """
        if self.init_cfg:
            init_weights_then_load(self, lambda: initialize(self, self.init_cfg))

    def _resize_pos_embed_on_load(
        self, state_dict: dict, prefix: str, *args, **kwargs
    ) -> None:
        """Resample a checkpoint ``pos_embed`` to this grid (the seeds' kernel)."""
        key = prefix + 'pos_embed'
        if key not in state_dict or state_dict[key].shape == self.pos_embed.shape:
            return
        old = state_dict[key]
        grid = tuple(self.patch_embed.grid_size)
        old_side = math.isqrt(old.shape[1] - 1)
        MMLogger.get_current_instance().info(
            f'EVAX: resize {key} from {tuple(old.shape)} to '
            f'{tuple(self.pos_embed.shape)} (grid {grid}).'
        )
        state_dict[key] = resize_pos_embed(
            old, (old_side, old_side), grid, mode='bicubic', num_extra_tokens=1
        )

    def get_layer_depth(self, param_name: str, prefix: str = '') -> tuple[int, int]:
        """Layer id for layer-wise lr decay (same rule as mmpretrain's ViT).

        ``cls_token``/``pos_embed``/``patch_embed`` are layer 0, ``blocks.i``
        is ``i + 1``, everything else (``fc_norm``, the head) is the last
        layer (lr scale 1). Returns ``(layer_depth, num_layers + 2)``.
        """
        max_depth = self.num_layers + 2
        if not param_name.startswith(prefix):
            return max_depth - 1, max_depth
        name = param_name[len(prefix) :]
        if name in ('cls_token', 'pos_embed') or name.startswith('patch_embed'):
            return 0, max_depth
        if name.startswith('blocks.'):
            return int(name.split('.')[1]) + 1, max_depth
        return max_depth - 1, max_depth

    @property
    def patch_resolution(self) -> tuple[int, int]:
        """Patch grid of the configured ``img_size``."""
        return tuple(self.patch_embed.grid_size)

    def _embed(
        self,
        x: torch.Tensor,
        mask: torch.Tensor | None = None,
        mask_token: torch.Tensor | None = None,
    ) -> tuple[torch.Tensor, torch.Tensor, tuple]:
        tokens = self.patch_embed(x)  # (B, H, W, C): dynamic_img_size
        if self.stop_grad_patch_embed:
            tokens = tokens.detach()
        batch, height, width, channels = tokens.shape
        tokens = tokens.reshape(batch, height * width, channels)
        if mask is not None:
            weight = mask.unsqueeze(-1).to(tokens.dtype)
            tokens = tokens * (1 - weight) + mask_token.to(tokens.dtype) * weight
        pos_embed = resize_pos_embed(
            self.pos_embed,
            tuple(self.patch_embed.grid_size),
            (height, width),
            mode='bicubic',
            num_extra_tokens=1,
        )
        tokens = torch.cat([self.cls_token.expand(batch, -1, -1), tokens], dim=1)
        tokens = self.pos_drop(tokens + pos_embed)
        rope = self.rope.get_embed(shape=(height, width))
        return tokens, rope, (height, width)

    def forward_with_mask_tokens(
        self, images: torch.Tensor, mask: torch.Tensor, mask_token: torch.Tensor
    ) -> torch.Tensor:
        """Last-block patch tokens with masked patch embeddings replaced.

        The student path of EVA-X-style MIM (:class:`~cxr_plugins.models.
        selfsup.EVAXMIM`): mask tokens enter the encoder input in place of the
        masked patches (BEiT/EVA-02 style), before the position embedding.

        Args:
            images: ``(B, C, H, W)`` normalised images.
            mask: ``(B, L)`` boolean patch mask, ``True`` = replace.
            mask_token: ``(1, 1, D)`` learnable token.

        Returns:
            ``(B, L, D)`` patch tokens (cls token removed).
        """
        tokens, rope, _ = self._embed(images, mask, mask_token)
        for block in self.blocks:
            tokens = block(tokens, rope=rope)
        return tokens[:, 1:]

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, ...]:
        """Return a tuple of features, one per ``out_indices`` entry."""
        tokens, rope, (height, width) = self._embed(x)
        outs = []
        for index, block in enumerate(self.blocks):
            tokens = block(tokens, rope=rope)
            if self.out_type == 'featmap' and index in self.out_indices:
                patches = tokens[:, 1:].reshape(tokens.shape[0], height, width, -1)
                outs.append(patches.permute(0, 3, 1, 2).contiguous())
        if self.out_type == 'avg_featmap':
            outs.append(self.fc_norm(tokens[:, 1:].mean(dim=1)))
        elif self.out_type == 'cls_token':
            outs.append(self.fc_norm(tokens[:, 0]))
        return tuple(outs)
