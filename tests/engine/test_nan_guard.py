"""A NaN loss stops training before the bad update, with a useful message.

Provokes: the tiny classifier's loss becomes NaN at training step 3. The run
must stop with :class:`NonFiniteLossError` naming iteration 3, the loss terms
and the batch's image files. The state after step 2 produced that loss, so it
is not trusted: ``last_good_iter_1.pth`` (and the weights left in memory)
must equal the state after step 1, the last one whose forward pass was good.
Without ``NaNGuardHook`` the run would carry on with NaN weights.

The other tests provoke the faults a loss check alone misses: a learning rate
of 1e30 (step 1 leaves finite weights of magnitude 1e30, the loss of step 2
overflows), weights that overflow to Inf after a step with a finite loss,
NaN gradients under a finite loss, and a finite loss 1e6 times its median.
"""

import pytest
import torch
from mmengine.config import Config
from mmengine.runner import Runner
from reliability_parts import tiny_config

from cxr_plugins.compat import load_checkpoint_file
from cxr_plugins.engine.hooks import NonFiniteLossError


def _run_until_stopped(config: dict) -> tuple[Runner, str]:
    runner = Runner.from_cfg(Config(config))
    with pytest.raises(NonFiniteLossError) as error:
        runner.train()
    return runner, str(error.value)


def _assert_saved_state_is(path, reference_path) -> dict:
    saved = load_checkpoint_file(path)
    reference = load_checkpoint_file(reference_path)
    for key, value in reference['state_dict'].items():
        if key in ('step_count', 'feature_memory'):
            continue
        torch.testing.assert_close(saved['state_dict'][key], value, msg=key)
    return saved


def guarded_config(tiny_images, work_dir, max_iters=6, hook=None, **kwargs) -> dict:
    """The tiny classifier with NaNGuardHook (options ``hook``), a checkpoint
    every iteration and no dropout, so saved states can be compared."""
    return tiny_config(
        tiny_images,
        work_dir,
        max_iters=max_iters,
        checkpoint_interval=1,
        drop_rate=0.0,
        custom_hooks=[dict(type='NaNGuardHook', **(hook or {}))],
        **kwargs,
    )


def test_nan_loss_stops_before_update_and_saves_last_good_state(tmp_path, tiny_images):
    config = guarded_config(tiny_images, tmp_path, nan_at_step=3)
    runner, message = _run_until_stopped(config)
    assert 'iteration 3' in message
    assert 'loss=nan, loss_cls=nan, loss_reg=' in message
    assert 'last_good_iter_1.pth' in message
    assert '.png' in message and str(tiny_images) in message

    last_good = load_checkpoint_file(tmp_path / 'last_good_iter_1.pth')
    after_step_1 = load_checkpoint_file(tmp_path / 'iter_1.pth')
    assert last_good['meta']['iter'] == 1
    assert not (tmp_path / 'iter_3.pth').exists()
    model_state = runner.model.state_dict()
    for key, value in after_step_1['state_dict'].items():
        if key in ('step_count', 'feature_memory'):
            continue
        torch.testing.assert_close(last_good['state_dict'][key], value, msg=key)
        torch.testing.assert_close(model_state[key], value, msg=key)
        assert torch.isfinite(model_state[key].float()).all(), key


def test_huge_learning_rate_keeps_the_state_before_the_ruinous_step(
    tmp_path, tiny_images
):
    config = guarded_config(tiny_images, tmp_path)
    config['optim_wrapper'] = dict(optimizer=dict(type='SGD', lr=1e30))
    config['param_scheduler'] = []
    runner, message = _run_until_stopped(config)
    assert 'last_good_iter_0.pth' in message
    saved = load_checkpoint_file(tmp_path / 'last_good_iter_0.pth')
    assert saved['meta']['iter'] == 0
    for key, value in saved['state_dict'].items():
        assert torch.isfinite(value.float()).all(), key
        assert value.float().abs().max() < 1e3, key  # not the 1e30 of step 1
    assert max(p.abs().max() for p in runner.model.parameters()) < 1e3


def test_parameters_overflowing_after_a_step_stop_training(tmp_path, tiny_images):
    config = guarded_config(tiny_images, tmp_path)
    # an infinite step size: finite loss and gradients, Inf/NaN weights after
    config['optim_wrapper'] = dict(optimizer=dict(type='SGD', lr=float('inf')))
    config['param_scheduler'] = []
    _, message = _run_until_stopped(config)
    assert 'iteration 1' in message
    assert 'parameters are not finite after the step' in message
    saved = load_checkpoint_file(tmp_path / 'last_good_iter_0.pth')
    assert all(torch.isfinite(v.float()).all() for v in saved['state_dict'].values())


def test_nan_gradients_under_a_finite_loss_stop_before_the_step(tmp_path, tiny_images):
    config = guarded_config(tiny_images, tmp_path)
    config['model']['nan_grad_at_step'] = 3
    _, message = _run_until_stopped(config)
    assert 'iteration 3' in message and 'gradient norm is nan' in message
    _assert_saved_state_is(tmp_path / 'last_good_iter_2.pth', tmp_path / 'iter_2.pth')


def test_exploding_finite_loss_stops_when_configured(tmp_path, tiny_images):
    config = guarded_config(
        tiny_images,
        tmp_path,
        max_iters=8,
        hook=dict(explosion_factor=1000.0, min_history=3),
    )
    config['model']['explode_at_step'] = 6
    _, message = _run_until_stopped(config)
    assert 'iteration 6' in message
    assert '> 1000 x the median' in message
    _assert_saved_state_is(tmp_path / 'last_good_iter_4.pth', tmp_path / 'iter_4.pth')

    unguarded = tiny_config(
        tiny_images,
        tmp_path / 'off',
        max_iters=8,
        drop_rate=0.0,
        custom_hooks=[dict(type='NaNGuardHook')],
    )
    unguarded['model']['explode_at_step'] = 6
    Runner.from_cfg(Config(unguarded)).train()  # finite: off by default
