"""MSMAE attention-map refresh schedule (the hook's refresh/resume run is in
tests/configs/test_configs.py, on the MSMAE configs)."""

from cxr_plugins.engine.hooks.msmae_attention import is_refresh_epoch


def test_refresh_schedule_matches_reference():
    epochs = [e for e in range(300) if is_refresh_epoch(e, 40, 40)]
    assert epochs == [40, 80, 120, 160, 200, 240, 280]
    assert [e for e in range(5) if is_refresh_epoch(e, 0, 2)] == [0, 2, 4]
