"""Thread policy: intra-op threads and workers from usable cores and load."""

from __future__ import annotations

import pytest
import torch
from mmengine.config import Config

from cxr_plugins.apis.launch import apply_thread_policy, plan_threads


def test_cpu_quiet_uses_all_cores():
    plan = plan_threads('auto', 2, on_gpu=False, cores=8, load_average=0.2)
    assert plan.intra_op_threads == 8 and plan.num_workers == 2


def test_cpu_loaded_backs_off():
    plan = plan_threads('auto', 1, on_gpu=False, cores=2, load_average=5.0)
    assert plan.intra_op_threads == 1
    plan = plan_threads('auto', 1, on_gpu=False, cores=16, load_average=4.0)
    assert plan.intra_op_threads == 12


def test_probe_picks_the_fastest_count():
    oversubscribed = {1: 0.010, 2: 0.030}
    plan = plan_threads(
        'auto', 1, on_gpu=False, cores=2, load_average=0.2, probe=oversubscribed.get
    )
    assert plan.intra_op_threads == 1 and '30.0 ms' in plan.reason
    quiet = {1: 0.020, 2: 0.011}
    plan = plan_threads(
        'auto', 1, on_gpu=False, cores=2, load_average=0.2, probe=quiet.get
    )
    assert plan.intra_op_threads == 2


def test_gpu_leaves_cores_to_workers_and_splits_per_process():
    plan = plan_threads('auto', 10, on_gpu=True, local_world_size=2, cores=16)
    assert plan.num_workers == 8 and plan.intra_op_threads == 1
    plan = plan_threads('auto', 4, on_gpu=True, cores=16)
    assert plan.num_workers == 4 and plan.intra_op_threads == 12


def test_explicit_threads_and_bad_value():
    assert plan_threads('3', 0, on_gpu=False, cores=2).intra_op_threads == 3
    with pytest.raises(ValueError, match='threads'):
        plan_threads(0, 0, on_gpu=False, cores=2)


def test_apply_caps_workers_and_sets_torch_threads(capsys):
    before = torch.get_num_threads()
    cfg = Config(
        dict(
            threads=1,
            train_dataloader=dict(num_workers=10_000, persistent_workers=True),
            val_dataloader=dict(num_workers=0),
        )
    )
    try:
        plan = apply_thread_policy(cfg)
        assert torch.get_num_threads() == 1
        assert cfg.train_dataloader.num_workers == plan.num_workers < 10_000
        assert 'num_workers 10000 ->' in capsys.readouterr().out
    finally:
        torch.set_num_threads(before)


def test_omp_num_threads_in_the_environment_is_respected(monkeypatch, capsys):
    before = torch.get_num_threads()
    monkeypatch.setenv('OMP_NUM_THREADS', '1')
    try:
        plan = apply_thread_policy(Config(dict(train_dataloader=dict(num_workers=0))))
        assert plan.intra_op_threads == 1 and torch.get_num_threads() == 1
        assert '1 threads as requested' in capsys.readouterr().out
    finally:
        torch.set_num_threads(before)
