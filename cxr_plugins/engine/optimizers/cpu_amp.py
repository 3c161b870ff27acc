"""Mixed precision that also works on CPU: bf16 autocast where the CPU computes bf16.

mmengine's ``AmpOptimWrapper`` asserts a GPU/NPU/MLU/MUSA device, so CPU users
get no bf16 path even on CPUs with native bf16 dot products (AVX512-BF16, AMX,
Arm BF16), where bf16 GEMMs run about twice as fast as fp32. This module adds:

* :func:`cpu_bf16_support`: whether this CPU has native bf16 instructions,
  read at run time from ``/proc/cpuinfo`` flags.
* :class:`CPUAmpOptimWrapper`: ``torch.autocast('cpu', dtype=torch.bfloat16)``
  around forward and loss (Micikevicius et al., "Mixed Precision Training",
  https://arxiv.org/abs/1710.03740; bf16 keeps fp32's exponent range, so no
  loss scaling). Parameters, gradients and optimizer state stay fp32.
* ``AutoAmpOptimWrapper`` (a config type): mmengine's ``AmpOptimWrapper`` on a
  GPU, :class:`CPUAmpOptimWrapper` on a bf16 CPU, and an error saying why
  otherwise. ``tools/train.py --amp`` selects it.
"""

from __future__ import annotations

import platform
from contextlib import contextmanager

import torch
from mmengine.optim import AmpOptimWrapper, OptimWrapper
from mmengine.registry import OPTIM_WRAPPERS
from torch import nn

#: /proc/cpuinfo flags that mean native bf16 arithmetic (x86 and Arm).
BF16_CPU_FLAGS = ('avx512_bf16', 'amx_bf16', 'bf16')


def cpu_flags(cpuinfo_path: str = '/proc/cpuinfo') -> set[str]:
    """The feature flags of the first CPU in ``cpuinfo_path`` (empty if unreadable)."""
    try:
        with open(cpuinfo_path, encoding='utf-8') as handle:
            for line in handle:
                key, _, value = line.partition(':')
                if key.strip() in ('flags', 'Features'):
                    return set(value.split())
    except OSError:
        pass
    return set()


def cpu_bf16_support(cpuinfo_path: str = '/proc/cpuinfo') -> tuple[bool, str]:
    """Whether this CPU computes bf16 natively, and a one-line reason.

    Without these flags oneDNN emulates bf16 with fp32 arithmetic plus
    conversions, which is slower than plain fp32.
    """
    flags = cpu_flags(cpuinfo_path)
    found = [flag for flag in BF16_CPU_FLAGS if flag in flags]
    capability = torch.backends.cpu.get_cpu_capability()
    if found:
        return True, (
            f'CPU flags {", ".join(found)} (torch CPU capability {capability})'
        )
    if not flags:
        return False, (
            f'cannot read CPU flags from {cpuinfo_path} '
            f'({platform.machine()}, torch CPU capability {capability})'
        )
    return False, (
        f'CPU has none of {", ".join(BF16_CPU_FLAGS)} (torch CPU capability '
        f'{capability}); bf16 would be emulated and slower than fp32'
    )


@OPTIM_WRAPPERS.register_module()
class CPUAmpOptimWrapper(OptimWrapper):
    """bf16 autocast on CPU; fp32 parameters, gradients and optimizer state.

    Args:
        dtype: Autocast dtype; only ``'bfloat16'`` (fp16 on CPU has neither
            fast kernels nor the range to skip loss scaling).
        allow_emulated: Use autocast even where :func:`cpu_bf16_support`
            finds no native bf16 (slower; for tests of numerics only).
        **kwargs: ``optimizer``, ``accumulative_counts``, ``clip_grad`` as in
            ``OptimWrapper``.

    Raises:
        RuntimeError: the CPU has no native bf16 and ``allow_emulated`` is False.
    """

    def __init__(
        self, dtype: str = 'bfloat16', allow_emulated: bool = False, **kwargs
    ) -> None:
        if dtype not in ('bfloat16', torch.bfloat16):
            raise ValueError(f'CPUAmpOptimWrapper supports bfloat16, got {dtype!r}')
        supported, reason = cpu_bf16_support()
        if not supported and not allow_emulated:
            raise RuntimeError(
                f'CPUAmpOptimWrapper: no native bf16 on this CPU: {reason}. Train '
                'in fp32 (drop --amp / the AMP optim_wrapper type), or set '
                'optim_wrapper.allow_emulated=True to test the numerics anyway.'
            )
        super().__init__(**kwargs)
        self.cast_dtype = torch.bfloat16
        self.bf16_reason = reason

    @contextmanager
    def optim_context(self, model: nn.Module):
        """Gradient-accumulation context of ``OptimWrapper`` plus CPU bf16 autocast."""
        with super().optim_context(model), torch.autocast('cpu', dtype=torch.bfloat16):
            yield


@OPTIM_WRAPPERS.register_module(name='AutoAmpOptimWrapper')
def build_auto_amp_optim_wrapper(
    loss_scale: str | float | dict = 'dynamic',
    dtype: str | None = None,
    use_fsdp: bool = False,
    **kwargs,
) -> OptimWrapper:
    """Mixed precision on whatever this process runs on (``AutoAmpOptimWrapper``).

    Args:
        loss_scale: GPU fp16 loss scaling, as in ``AmpOptimWrapper`` (unused on
            CPU: bf16 needs none).
        dtype: GPU autocast dtype (``None`` = fp16, or ``'bfloat16'``); on CPU
            always bf16.
        use_fsdp: GPU: a sharded gradient scaler for FSDP (unused on CPU).
        **kwargs: ``optimizer`` and the other ``OptimWrapper`` arguments.

    Raises:
        RuntimeError: no GPU and no native bf16 CPU; the message says which
            flags were looked for.
    """
    if torch.cuda.is_available():
        return AmpOptimWrapper(
            loss_scale=loss_scale, dtype=dtype, use_fsdp=use_fsdp, **kwargs
        )
    supported, reason = cpu_bf16_support()
    if not supported:
        raise RuntimeError(
            f'--amp / AutoAmpOptimWrapper: no GPU and no native bf16 CPU ({reason}). '
            'Mixed precision would not be faster here; train in fp32.'
        )
    if dtype not in (None, 'bfloat16'):
        print(f'[cxr_plugins] AMP on CPU uses bfloat16, not {dtype}', flush=True)
    wrapper = CPUAmpOptimWrapper(**kwargs)
    print(f'[cxr_plugins] AMP: bf16 autocast on CPU ({reason})', flush=True)
    return wrapper
