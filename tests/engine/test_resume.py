"""Our own training checkpoints save and resume through mmengine on torch 2.14."""

import torch
from mmengine.model import BaseModel
from mmengine.runner import Runner
from torch.utils.data import Dataset

import cxr_plugins  # noqa: F401


class _Points(Dataset):
    def __len__(self) -> int:
        return 32

    def __getitem__(self, index: int) -> dict:
        generator = torch.Generator().manual_seed(index)
        inputs = torch.randn(4, generator=generator)
        return dict(inputs=inputs, target=inputs.sum(dim=0, keepdim=True))


class _Regressor(BaseModel):
    def __init__(self) -> None:
        super().__init__()
        self.linear = torch.nn.Linear(4, 1)

    def forward(self, inputs, target, mode='loss'):
        prediction = self.linear(inputs)
        if mode == 'loss':
            return dict(loss=torch.nn.functional.mse_loss(prediction, target))
        return prediction


def _runner(work_dir, max_epochs: int, resume: bool = False) -> Runner:
    torch.manual_seed(0)
    return Runner(
        model=_Regressor(),
        work_dir=str(work_dir),
        train_dataloader=dict(
            dataset=_Points(),
            batch_size=8,
            num_workers=0,
            sampler=dict(type='DefaultSampler', shuffle=True),
            collate_fn=dict(type='default_collate'),
        ),
        train_cfg=dict(by_epoch=True, max_epochs=max_epochs),
        optim_wrapper=dict(optimizer=dict(type='AdamW', lr=0.01)),
        param_scheduler=dict(
            type='CosineAnnealingLR', T_max=4, begin=0, end=4, by_epoch=True
        ),
        default_hooks=dict(checkpoint=dict(type='CheckpointHook', interval=1)),
        randomness=dict(seed=0),
        resume=resume,
        default_scope='mmengine',
    )


def test_resume_continues_from_saved_state(tmp_path):
    straight = _runner(tmp_path / 'straight', max_epochs=4)
    straight.train()

    first = _runner(tmp_path / 'resumed', max_epochs=2)
    first.train()
    resumed = _runner(tmp_path / 'resumed', max_epochs=4, resume=True)
    resumed.train()

    assert resumed.iter == straight.iter == 16
    torch.testing.assert_close(
        resumed.model.linear.weight, straight.model.linear.weight
    )
    assert resumed.optim_wrapper.get_lr() == straight.optim_wrapper.get_lr()
