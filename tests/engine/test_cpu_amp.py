"""CPU bf16 mixed precision: the AMP wrapper computes in bf16 and keeps fp32 state."""

from __future__ import annotations

import pytest
import torch
from mmengine.registry import OPTIM_WRAPPERS
from torch import nn

from cxr_plugins.engine.optimizers import cpu_amp


def _tiny_step(wrapper_cfg: dict) -> tuple[nn.Module, torch.Tensor, object]:
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(16, 32), nn.GELU(), nn.Linear(32, 4))
    optimizer = torch.optim.AdamW(model.parameters(), lr=1e-3)
    wrapper = OPTIM_WRAPPERS.build(dict(wrapper_cfg, optimizer=optimizer))
    with wrapper.optim_context(model):
        logits = model(torch.randn(8, 16))
    loss = logits.float().pow(2).mean()
    wrapper.update_params(loss)
    return model, logits, wrapper


def test_cpu_amp_computes_bf16_and_keeps_fp32_params():
    model, logits, wrapper = _tiny_step(
        dict(type='CPUAmpOptimWrapper', allow_emulated=True)
    )
    assert logits.dtype == torch.bfloat16  # the linear layers ran in bf16
    for param in model.parameters():
        assert param.dtype == torch.float32
        assert param.grad is None or param.grad.dtype == torch.float32
    state = wrapper.optimizer.state[next(model.parameters())]
    assert state['exp_avg'].dtype == torch.float32


def test_fp32_wrapper_stays_fp32():
    _, logits, _ = _tiny_step(dict(type='OptimWrapper'))
    assert logits.dtype == torch.float32


def test_bf16_step_close_to_fp32():
    model32, _, _ = _tiny_step(dict(type='OptimWrapper'))
    model16, _, _ = _tiny_step(dict(type='CPUAmpOptimWrapper', allow_emulated=True))
    for p32, p16 in zip(model32.parameters(), model16.parameters(), strict=True):
        # one AdamW step of 1e-3: bf16 rounding may flip a few update signs only
        assert (p32 - p16).abs().max() <= 2.1e-3


def test_cpu_flags_parse(tmp_path):
    info = tmp_path / 'cpuinfo'
    info.write_text('processor\t: 0\nflags\t\t: fpu sse avx2 avx512f\n')
    supported, reason = cpu_amp.cpu_bf16_support(str(info))
    assert not supported and 'emulated' in reason
    info.write_text('processor\t: 0\nflags\t\t: fpu avx512f avx512_bf16 amx_bf16\n')
    supported, reason = cpu_amp.cpu_bf16_support(str(info))
    assert supported and 'avx512_bf16' in reason
    arm = tmp_path / 'arm'
    arm.write_text('processor\t: 0\nFeatures\t: fp asimd bf16 i8mm\n')
    assert cpu_amp.cpu_bf16_support(str(arm))[0]


def test_no_bf16_cpu_raises_clear_error(monkeypatch):
    monkeypatch.setattr(torch.cuda, 'is_available', lambda: False)
    monkeypatch.setattr(
        cpu_amp, 'cpu_bf16_support', lambda: (False, 'CPU has none of avx512_bf16')
    )
    optimizer = torch.optim.SGD(nn.Linear(2, 2).parameters(), lr=0.1)
    with pytest.raises(RuntimeError, match='no native bf16'):
        OPTIM_WRAPPERS.build(dict(type='AutoAmpOptimWrapper', optimizer=optimizer))
    with pytest.raises(RuntimeError, match='allow_emulated'):
        OPTIM_WRAPPERS.build(dict(type='CPUAmpOptimWrapper', optimizer=optimizer))


def test_auto_amp_picks_cpu_bf16_when_supported(monkeypatch):
    monkeypatch.setattr(torch.cuda, 'is_available', lambda: False)
    monkeypatch.setattr(cpu_amp, 'cpu_bf16_support', lambda: (True, 'avx512_bf16'))
    optimizer = torch.optim.SGD(nn.Linear(2, 2).parameters(), lr=0.1)
    wrapper = OPTIM_WRAPPERS.build(
        dict(type='AutoAmpOptimWrapper', optimizer=optimizer, loss_scale='dynamic')
    )
    assert isinstance(wrapper, cpu_amp.CPUAmpOptimWrapper)
