"""Layer-wise learning-rate decay for mmseg segmentors with a ViT backbone.

BEiT (Bao et al., https://arxiv.org/abs/2106.08254) / MAE fine-tuning recipe
used by MRM and EVA-X. mmseg's ``LearningRateDecayOptimizerConstructor`` only
accepts backbones whose class name contains ``MAE``/``BEiT``/``ConvNeXt``, and
mmpretrain's ``LearningRateDecayOptimWrapperConstructor`` needs a
``get_layer_depth`` method that mmseg's ``EncoderDecoder`` lacks. This subclass
of the mmpretrain constructor supplies it from the backbone (neck and heads get
the full learning rate).
"""

from __future__ import annotations

from functools import partial

from mmpretrain.engine.optimizers import LearningRateDecayOptimWrapperConstructor
from mmseg.registry import OPTIM_WRAPPER_CONSTRUCTORS
from torch import nn


@OPTIM_WRAPPER_CONSTRUCTORS.register_module()
class SegLayerDecayOptimWrapperConstructor(LearningRateDecayOptimWrapperConstructor):
    """mmpretrain's layer-decay constructor for ``model.backbone`` depth.

    ``paramwise_cfg`` is mmpretrain's (``layer_decay_rate``, ``custom_keys``,
    ``norm_decay_mult``, ``flat_decay_mult`` ...). The backbone must have
    ``get_layer_depth(param_name, prefix)`` as mmpretrain's ViTs do.
    """

    def add_params(
        self,
        params: list[dict],
        module: nn.Module,
        prefix: str = '',
        get_layer_depth=None,
        **kwargs,
    ) -> None:
        """Add param groups, taking the depth from ``module.backbone``."""
        if get_layer_depth is None and prefix == '':
            backbone = getattr(module, 'backbone', None)
            if not hasattr(backbone, 'get_layer_depth'):
                raise TypeError(
                    f'{type(module).__name__}.backbone '
                    f'({type(backbone).__name__}) has no '
                    'get_layer_depth(param_name, prefix) method'
                )
            get_layer_depth = partial(backbone.get_layer_depth, prefix='backbone.')
        super().add_params(
            params, module, prefix=prefix, get_layer_depth=get_layer_depth, **kwargs
        )
