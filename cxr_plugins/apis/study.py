"""Label-efficiency study in miniature: does MAE pretraining help at 1/10/100 %?

The seeds' central claim (Medical MAE, MRM, EVA-X: masked-image pretraining on
X-rays helps most when labels are scarce) on laptop scale: the demo ViT is
MAE-pretrained on the PneumoniaMNIST training images without their labels, then
fine-tuned with 1 %, 10 % and 100 % of the training labels (a seeded image
subset per seed, the same subset for both initialisations) from that
checkpoint and from random initialisation, each selected on validation AUC
after warm-up and tested once. Writes ``runs.csv`` (one row per run),
``summary.csv`` (mean, sd and t-based 95 % CI over seeds per arm),
``gains.csv`` (MAE minus random, paired by seed, with its CI) and
``label_efficiency.png`` (test AUC against label fraction, as MRM's Fig. 3).

Example::

    python -m cxr_plugins.apis.study work_dirs/study --jobs 2
    python -m cxr_plugins.apis.study work_dirs/study_quick --quick
"""

from __future__ import annotations

import argparse
import csv
import datetime
import os
import os.path as osp
import sys
import time
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from math import nan

import numpy as np
from scipy import stats

from cxr_plugins.apis.demo import (
    PNEU_CFG,
    Schedule,
    StepTimer,
    best_checkpoint,
    latest_test_metrics,
    machine_facts,
    tool,
    train_losses,
)

PRETRAIN_CFG = 'configs/demo/mae_vit-demo-p8_dec128d2b_1xb64-30e_pneumoniamnist-64px.py'
FRACTIONS = (0.01, 0.1, 1.0)


@dataclass(frozen=True)
class Arm:
    """One fine-tuning run: initialisation, label fraction, seed."""

    init: str
    fraction: float
    seed: int

    @property
    def name(self) -> str:
        return f'{self.init}_{self.fraction:g}_seed{self.seed}'


def finetune_schedule(fraction: float, quick: bool) -> Schedule:
    """Epochs per label fraction: about the same number of optimiser steps
    for every fraction (1 %: 39 images), validated five times after warm-up."""
    if quick:
        return Schedule(2, 1, 1, 2)
    epochs = {0.01: 150, 0.1: 30, 1.0: 5}[fraction]
    warmup = max(1, epochs // 10)
    interval = max(1, (epochs - warmup) // 5)
    return Schedule(epochs, warmup, interval, warmup + 1)


def run_arm(
    arm: Arm, work: str, pre_ckpt: str, quick: bool, env: dict | None = None
) -> dict:
    """Fine-tune and test one arm (children in ``env``); return its row of
    ``runs.csv``."""
    out_dir = osp.join(work, arm.name)
    sched = finetune_schedule(arm.fraction, quick)
    init = (
        [f'model.backbone.init_cfg.checkpoint={pre_ckpt}']
        if arm.init == 'mae'
        else ['model.backbone.init_cfg=None']
    )
    timer = StepTimer()
    timer.run(
        tool('train.py')
        + [PNEU_CFG, '--work-dir', out_dir, '--cfg-options']
        + init
        + sched.options()
        + [
            f'train_dataloader.dataset.fraction={arm.fraction}',
            f'train_dataloader.dataset.seed={arm.seed}',
            f'randomness.seed={arm.seed}',
            'train_dataloader.batch_size=32',
            'default_hooks.logger.interval=50',
        ],
        env=env,
    )
    timer.run(
        tool('test.py') + [PNEU_CFG, best_checkpoint(out_dir), '--work-dir', out_dir],
        env=env,
    )
    metrics = latest_test_metrics(out_dir)
    row = dict(
        init=arm.init,
        fraction=arm.fraction,
        seed=arm.seed,
        epochs=sched.length,
        test_auc=round(metrics['auc/mAUC'], 2),
        ci_low=round(metrics['auc/mAUC_ci_low'], 2),
        ci_high=round(metrics['auc/mAUC_ci_high'], 2),
        wall_s=round(timer.wall),
        cpu_s=round(timer.cpu),
    )
    print(
        f'[study] {arm.name}: test AUC {row["test_auc"]} ({timer.describe()})',
        flush=True,
    )
    return row


def mean_sd_ci(values: Sequence[float]) -> dict:
    """Mean, sd and t-based 95 % CI (NaN sd and CI for one value)."""
    values = np.asarray(values, dtype=np.float64)
    mean = values.mean()
    if values.size < 2:
        return dict(mean=round(mean, 2), sd=nan, ci_low=nan, ci_high=nan)
    sd = values.std(ddof=1)
    half = stats.t.ppf(0.975, values.size - 1) * sd / np.sqrt(values.size)
    return dict(
        mean=round(mean, 2),
        sd=round(sd, 2),
        ci_low=round(mean - half, 2),
        ci_high=round(mean + half, 2),
    )


def summarise(rows: list[dict]) -> list[dict]:
    """Mean, sd and t-based 95 % CI of the test AUC over seeds, per arm."""
    summary = []
    for init in ('mae', 'random'):
        for fraction in FRACTIONS:
            values = [
                r['test_auc']
                for r in rows
                if r['init'] == init and r['fraction'] == fraction
            ]
            if values:
                summary.append(
                    dict(init=init, fraction=fraction, seeds=len(values))
                    | mean_sd_ci(values)
                )
    return summary


def paired_gains(rows: list[dict]) -> list[dict]:
    """Per label fraction, MAE minus random test AUC over the seeds both ran:
    paired, since a seed fixes the labelled subset for both inits."""
    auc = {(r['init'], r['fraction'], r['seed']): r['test_auc'] for r in rows}
    gains = []
    for fraction in FRACTIONS:
        seeds = sorted(
            seed
            for init, frac, seed in auc
            if init == 'mae' and frac == fraction and ('random', frac, seed) in auc
        )
        if seeds:
            differences = [
                auc['mae', fraction, s] - auc['random', fraction, s] for s in seeds
            ]
            gains.append(
                dict(fraction=fraction, seeds=len(seeds)) | mean_sd_ci(differences)
            )
    return gains


def write_csv(path: str, rows: list[dict]) -> None:
    """Write ``rows`` atomically (temp file + rename)."""
    temp = f'{path}.tmp'
    with open(temp, 'w', newline='') as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    os.replace(temp, path)


def plot(summary: list[dict], path: str, title: str) -> None:
    """Test AUC (mean +- sd over seeds) against label fraction, log x."""
    from matplotlib.figure import Figure

    figure = Figure(figsize=(4.2, 3.2))
    axis = figure.subplots()
    for init, label, colour in (
        ('mae', 'MAE-pretrained', 'tab:red'),
        ('random', 'random init', 'tab:blue'),
    ):
        rows = [r for r in summary if r['init'] == init]
        if not rows:
            continue
        axis.errorbar(
            [100 * r['fraction'] for r in rows],
            [r['mean'] for r in rows],
            yerr=[0 if np.isnan(r['sd']) else r['sd'] for r in rows],
            marker='o',
            capsize=3,
            label=label,
            color=colour,
        )
    axis.set_xscale('log')
    axis.set_xticks([1, 10, 100], ['1 %', '10 %', '100 %'])
    axis.set_xlabel('labelled training images')
    axis.set_ylabel('test AUC (mean $\\pm$ sd over seeds)')
    axis.set_title(title, fontsize=8)
    axis.legend(fontsize=8)
    axis.grid(alpha=0.3)
    figure.tight_layout()
    figure.savefig(path, dpi=120)


def run_study(
    work: str,
    seeds: int = 3,
    jobs: int = 2,
    quick: bool = False,
    pretrain_epochs: int = 30,
) -> list[dict]:
    """Pretrain, fine-tune every arm, write the table and the plot."""
    os.makedirs(work, exist_ok=True)
    start = time.monotonic()
    started = datetime.datetime.now(datetime.timezone.utc).strftime(
        '%Y-%m-%d %H:%M UTC'
    )
    facts = machine_facts()
    print(f'[study] {started}; machine: {facts}', flush=True)
    pre_dir = osp.join(work, 'pretrain')
    pre_epochs = 2 if quick else pretrain_epochs
    timer = StepTimer()
    timer.run(
        tool('train.py')
        + [PRETRAIN_CFG, '--work-dir', pre_dir, '--cfg-options']
        + Schedule(pre_epochs, 1, 0).options()
        + [f'default_hooks.checkpoint.interval={pre_epochs}']
        + (['train_dataloader.dataset.fraction=0.05'] if quick else [])
    )
    pre_ckpt = osp.join(pre_dir, f'epoch_{pre_epochs}.pth')
    first, last = train_losses(pre_dir)
    print(
        f'[study] MAE pretraining on the PneumoniaMNIST training images: loss '
        f'{first:.2f} -> {last:.2f}; {timer.describe()}',
        flush=True,
    )
    fractions = (0.1,) if quick else FRACTIONS
    arms = [
        Arm(init, fraction, seed)
        for seed in range(seeds)
        for fraction in fractions
        for init in ('mae', 'random')
    ]
    # ``jobs`` parallel fine-tunes share the cores: a share of threads each
    # (unless OMP_NUM_THREADS is pinned), else they oversubscribe them.
    env = dict(os.environ)
    env.setdefault('OMP_NUM_THREADS', str(max(1, len(os.sched_getaffinity(0)) // jobs)))
    with ThreadPoolExecutor(max_workers=jobs) as pool:
        rows = list(
            pool.map(lambda arm: run_arm(arm, work, pre_ckpt, quick, env), arms)
        )
    write_csv(osp.join(work, 'runs.csv'), rows)
    minutes = (time.monotonic() - start) / 60
    print(f'[study] finished in {minutes:.1f} min; {started}; {facts}')
    return write_outputs(
        work,
        rows,
        f'PneumoniaMNIST, demo ViT, {seeds} seeds\n{started}, {minutes:.0f} min',
    )


def write_outputs(work: str, rows: list[dict], title: str) -> list[dict]:
    """``summary.csv``, ``gains.csv`` and ``label_efficiency.png`` from the
    runs; print both tables. Returns the summary."""
    summary = summarise(rows)
    gains = paired_gains(rows)
    write_csv(osp.join(work, 'summary.csv'), summary)
    write_csv(osp.join(work, 'gains.csv'), gains)
    plot(summary, osp.join(work, 'label_efficiency.png'), title)
    print('[study] init    labels  seeds  test AUC mean    sd  95 % CI')
    for r in summary:
        print(
            f'[study] {r["init"]:<7} {100 * r["fraction"]:>4g} %  {r["seeds"]:>5}  '
            f'{r["mean"]:>13.2f}  {r["sd"]:>4.2f}  '
            f'[{r["ci_low"]:.2f}, {r["ci_high"]:.2f}]'
        )
    print('[study] MAE - random (paired by seed): labels  seeds  mean gain  95 % CI')
    for g in gains:
        print(
            f'[study] {100 * g["fraction"]:>37g} %  {g["seeds"]:>5}  '
            f'{g["mean"]:>+9.2f}  [{g["ci_low"]:+.2f}, {g["ci_high"]:+.2f}]'
        )
    print(
        f'[study] tables and plot in {work} '
        '(runs.csv, summary.csv, gains.csv, label_efficiency.png)'
    )
    return summary


def read_runs(path: str) -> list[dict]:
    """The rows of a ``runs.csv`` written by :func:`run_study`."""
    with open(path, newline='') as handle:
        rows = list(csv.DictReader(handle))
    if not rows:
        raise ValueError(f'{path}: no runs')
    for line, row in enumerate(rows, start=2):
        try:
            row.update(
                fraction=float(row['fraction']),
                seed=int(row['seed']),
                test_auc=float(row['test_auc']),
            )
        except (KeyError, ValueError) as error:
            raise ValueError(f'{path}, line {line}: {error!r}') from error
    return rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__.splitlines()[0],
        epilog='example: python -m cxr_plugins.apis.study work_dirs/study --jobs 2',
    )
    parser.add_argument('work_dir', nargs='?', default='work_dirs/study')
    parser.add_argument('--seeds', type=int, default=3)
    parser.add_argument('--jobs', type=int, default=2, help='runs in parallel')
    parser.add_argument(
        '--pretrain-epochs', type=int, default=30, help='MAE pretraining epochs'
    )
    parser.add_argument(
        '--quick', action='store_true', help='smoke run: 10 %% labels, short schedules'
    )
    parser.add_argument(
        '--summarise',
        metavar='TITLE',
        help='only rewrite the tables and plot (titled TITLE; \\n breaks a line) '
        'of WORK_DIR from its runs.csv',
    )
    args = parser.parse_args(argv)
    if args.summarise:
        runs = read_runs(osp.join(args.work_dir, 'runs.csv'))
        write_outputs(args.work_dir, runs, args.summarise.replace('\\n', '\n'))
        return 0
    run_study(args.work_dir, args.seeds, args.jobs, args.quick, args.pretrain_epochs)
    return 0


if __name__ == '__main__':
    sys.exit(main())
