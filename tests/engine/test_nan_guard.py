"""A NaN loss stops training before the bad update, with a useful message.

Provokes: the tiny classifier's loss becomes NaN at training step 3. The run
must stop with :class:`NonFiniteLossError` naming iteration 3, the loss terms
and the batch's image files, after saving ``last_good_iter_2.pth``, which (like
the weights left in memory) must equal the state after step 2. Without
``NaNGuardHook`` the run would carry on with NaN weights and the test fails.
"""

import pytest
import torch
from mmengine.config import Config
from mmengine.runner import Runner
from reliability_parts import tiny_config

from cxr_plugins.compat import load_checkpoint_file
from cxr_plugins.engine.hooks import NonFiniteLossError


def test_nan_loss_stops_before_update_and_saves_last_good_state(tmp_path, tiny_images):
    config = tiny_config(
        tiny_images,
        tmp_path,
        max_iters=6,
        checkpoint_interval=1,
        drop_rate=0.0,
        nan_at_step=3,
        custom_hooks=[dict(type='NaNGuardHook')],
    )
    runner = Runner.from_cfg(Config(config))
    with pytest.raises(NonFiniteLossError) as error:
        runner.train()

    message = str(error.value)
    assert 'iteration 3' in message
    assert 'loss=nan, loss_cls=nan, loss_reg=' in message
    assert 'last_good_iter_2.pth' in message
    assert '.png' in message and str(tiny_images) in message

    last_good = load_checkpoint_file(tmp_path / 'last_good_iter_2.pth')
    after_step_2 = load_checkpoint_file(tmp_path / 'iter_2.pth')
    assert last_good['meta']['iter'] == 2
    assert not (tmp_path / 'iter_3.pth').exists()
    model_state = runner.model.state_dict()
    for key, value in after_step_2['state_dict'].items():
        if key in ('step_count', 'feature_memory'):
            continue
        torch.testing.assert_close(last_good['state_dict'][key], value, msg=key)
        torch.testing.assert_close(model_state[key], value, msg=key)
        assert torch.isfinite(model_state[key].float()).all(), key
