"""The demo job: train each step, test it once, print one summary line per step.

``bash tools/run_demo.sh`` calls :func:`main`. Each step runs ``tools/train.py``
(mmengine's progress and ETA stay on the console) and ``tools/test.py`` once on
held-out data: the PneumoniaMNIST and lung steps test the checkpoint that the
config's ``save_best`` chose on validation; the NIH-14 step trains one model
per fold of a 5-fold patient split and evaluates the pooled out-of-fold
predictions of every patient (:func:`cross_fit`). Each step prints one line:
what it trained, the headline test metric with its bootstrap 95 % CI and
sample size, wall and CPU time with the load average, and where the outputs
are.

Example::

    python -m cxr_plugins.apis.demo work_dirs/demo          # full demo
    python -m cxr_plugins.apis.demo work_dirs/demo --quick  # smoke schedule
"""

from __future__ import annotations

import argparse
import csv
import glob
import json
import os
import os.path as osp
import platform
import subprocess
import sys
import time
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

import numpy as np
from mmengine.config import Config

PRE_CFG = 'configs/demo/mae_vit-demo-p8_dec128d2b_1xb64-20e_nih14-demo-64px.py'
NIH_CFG = 'configs/demo/resnet18-w32_ema_1xb32-16e_nih14-demo-64px-5fold.py'
NIH_FOLDS = ('fold0', 'fold1', 'fold2', 'fold3', 'fold4')
PNEU_CFG = 'configs/demo/vit-demo-p8_mae-pre_1xb64-6e_pneumoniamnist-64px.py'
SEG_CFG = 'configs/demo/upernet_vit-demo-p8_mae-pre_1xb4-400it_lungs-cc-by-128x128.py'


def machine_facts() -> str:
    """CPU count, CPU model and the 1-minute load average, read now."""
    model = platform.processor() or platform.machine()
    if osp.isfile('/proc/cpuinfo'):
        with open('/proc/cpuinfo') as handle:
            names = [
                line.split(':', 1)[1].strip() for line in handle if 'model name' in line
            ]
        model = names[0] if names else model
    return f'{os.cpu_count()} CPUs ({model}), load average {os.getloadavg()[0]:.1f}'


def bootstrap_mean_ci(
    values: np.ndarray, resamples: int = 1000, seed: int = 0
) -> tuple[float, float]:
    """Percentile 95 % CI of the mean of ``values`` over resampled samples."""
    values = np.asarray(values, dtype=np.float64)
    if values.size == 0:
        raise ValueError('bootstrap_mean_ci: no values')
    rows = np.random.default_rng(seed).integers(
        0, values.size, (resamples, values.size)
    )
    means = values[rows].mean(axis=1)
    return float(np.percentile(means, 2.5)), float(np.percentile(means, 97.5))


def latest_test_metrics(work_dir: str) -> dict:
    """Metrics of the newest ``tools/test.py`` run in ``work_dir`` (mmengine's
    ``<timestamp>/<timestamp>.json``; a test record has no ``lr``)."""
    logs = sorted(glob.glob(osp.join(work_dir, '*', '*.json')), key=osp.getmtime)
    for path in reversed(logs):
        with open(path) as handle:
            records = [json.loads(line) for line in handle if line.strip()]
        if records and 'lr' not in records[-1]:
            return records[-1]
    raise FileNotFoundError(f'{work_dir}: no test metrics json (*/<timestamp>.json)')


def best_checkpoint(work_dir: str) -> str:
    """The newest ``best_*.pth`` of ``work_dir``."""
    found = sorted(glob.glob(osp.join(work_dir, 'best_*.pth')), key=osp.getmtime)
    if not found:
        raise FileNotFoundError(f'{work_dir}: no best_*.pth (was save_best set?)')
    return found[-1]


def train_losses(work_dir: str) -> tuple[float, float]:
    """First and last logged training loss of the newest run in ``work_dir``."""
    scalars = sorted(
        glob.glob(osp.join(work_dir, '*', 'vis_data', 'scalars.json')), key=osp.getmtime
    )
    if not scalars:
        raise FileNotFoundError(f'{work_dir}: no */vis_data/scalars.json')
    with open(scalars[-1]) as handle:
        losses = [r['loss'] for r in map(json.loads, handle) if 'loss' in r]
    if not losses:
        raise ValueError(f'{scalars[-1]}: no loss logged')
    return losses[0], losses[-1]


class StepTimer:
    """Wall and child-process CPU seconds of the commands run through it."""

    def __init__(self) -> None:
        self.wall = 0.0
        self.cpu = 0.0
        self.loads: list[float] = []

    def run(self, command: Sequence[str], env: dict | None = None) -> None:
        """Run ``command`` (in ``env``); raise ``CalledProcessError`` if it fails."""
        start = time.monotonic()
        process = subprocess.Popen(list(command), env=env)
        # wait4: this child's own CPU time, also when several run at once.
        _, status, usage = os.wait4(process.pid, 0)
        process.returncode = os.waitstatus_to_exitcode(status)
        self.wall += time.monotonic() - start
        self.cpu += usage.ru_utime + usage.ru_stime
        self.loads.append(os.getloadavg()[0])
        if process.returncode:
            raise subprocess.CalledProcessError(process.returncode, list(command))

    @classmethod
    def parallel(cls, timers: Sequence[StepTimer], wall: float) -> StepTimer:
        """One timer for runs made side by side in ``wall`` seconds."""
        total = cls()
        total.wall = wall
        total.cpu = sum(timer.cpu for timer in timers)
        total.loads = [load for timer in timers for load in timer.loads]
        return total

    def describe(self) -> str:
        load = max(self.loads) if self.loads else os.getloadavg()[0]
        return f'wall {self.wall:.0f} s (CPU {self.cpu:.0f} s, load {load:.1f})'


@dataclass
class Schedule:
    """Length of one training step: epochs (or iterations), warm-up, and the
    first validation (selection starts after warm-up, never during it)."""

    length: int
    warmup: int
    val_interval: int
    val_begin: int = 1
    extra: list[str] = field(default_factory=list)

    def options(self, by_epoch: bool = True) -> list[str]:
        key = 'max_epochs' if by_epoch else 'max_iters'
        opts = [
            f'train_cfg.{key}={self.length}',
            f'param_scheduler.0.end={self.warmup}',
            f'param_scheduler.1.begin={self.warmup}',
            f'param_scheduler.1.end={self.length}',
        ]
        if by_epoch:
            opts.append(f'param_scheduler.1.T_max={self.length - self.warmup}')
        if self.val_interval and by_epoch:
            opts.append(f'train_cfg.val_begin={self.val_begin}')
        if self.val_interval:
            opts += [
                f'train_cfg.val_interval={self.val_interval}',
                f'default_hooks.checkpoint.interval={self.val_interval}',
            ]
        return opts + self.extra


def schedules(quick: bool) -> dict[str, Schedule]:
    """The demo's schedules (``quick``: a smoke run of every step)."""
    if quick:
        return dict(
            pretrain=Schedule(2, 1, 0, extra=['default_hooks.checkpoint.interval=2']),
            nih=Schedule(2, 1, 0, extra=['default_hooks.checkpoint.interval=2']),
            pneumonia=Schedule(
                2, 1, 1, 2, extra=['train_dataloader.dataset.fraction=0.1']
            ),
            seg=Schedule(20, 5, 20),
        )
    return dict(
        pretrain=Schedule(20, 2, 0, extra=['default_hooks.checkpoint.interval=20']),
        nih=Schedule(16, 2, 0, extra=['default_hooks.checkpoint.interval=16']),
        pneumonia=Schedule(6, 1, 1, 2),
        seg=Schedule(400, 40, 100),
    )


def tool(name: str) -> list[str]:
    return [sys.executable, osp.join('tools', name)]


def run_demo(work: str, quick: bool = False) -> list[str]:
    """Run the four demo steps; return their summary lines (also printed)."""
    plan = schedules(quick)
    lines = []
    print(f'[demo] machine: {machine_facts()}', flush=True)
    start = time.monotonic()

    def report(line: str) -> None:
        lines.append(line)
        print(f'\n[demo] {line}\n', flush=True)

    # 1. MAE pretraining (no labels; its headline is the reconstruction loss).
    pre_dir = osp.join(work, 'pretrain')
    timer = StepTimer()
    sched = plan['pretrain']
    timer.run(
        tool('train.py')
        + [PRE_CFG, '--work-dir', pre_dir, '--cfg-options']
        + sched.options()
    )
    pre_ckpt = osp.join(pre_dir, f'epoch_{sched.length}.pth')
    first, last = train_losses(pre_dir)
    report(
        f'1/4 MAE pretraining of the demo ViT on the unlabelled NIH training images, '
        f'{sched.length} epochs: masked-patch loss {first:.2f} -> {last:.2f}; '
        f'{timer.describe()}; checkpoint {pre_ckpt}'
    )

    # 2. NIH-14 by k-fold patient cross-fitting, pooled out-of-fold test AUC.
    out_dir = osp.join(work, 'classification')
    sched = plan['nih']
    folds = NIH_FOLDS[:2] if quick else NIH_FOLDS
    timer, metrics = cross_fit(NIH_CFG, out_dir, sched, folds)
    ran = '' if len(folds) == len(NIH_FOLDS) else f' ({len(folds)} of its folds run)'
    predictions = osp.join(out_dir, 'test_outputs', 'predictions.csv')
    report(
        f'2/4 NIH 14-label classification, ResNet-18 (half width) from random init, '
        f'{len(NIH_FOLDS)}-fold patient cross-fitting{ran}, {sched.length} epochs '
        f'per fold (no selection): pooled out-of-fold test '
        f'{auc_with_ci(metrics, predictions, subset_classes(NIH_CFG))} on '
        f'{_count_rows(predictions)} images (chance 50); {timer.describe()}; '
        f'outputs {out_dir}'
    )
    report(
        classifier_check(
            NIH_CFG,
            fold_checkpoint(out_dir, folds[0]),
            predictions,
            osp.join(out_dir, folds[0], 'test_outputs', 'predictions.csv'),
        )
    )

    # 3. PneumoniaMNIST from the step-1 MAE, selected on validation, tested once.
    out_dir = osp.join(work, 'pneumonia')
    sched = plan['pneumonia']
    timer = StepTimer()
    timer.run(
        tool('train.py')
        + [PNEU_CFG, '--work-dir', out_dir, '--cfg-options']
        + [f'model.backbone.init_cfg.checkpoint={pre_ckpt}']
        + sched.options()
    )
    best = best_checkpoint(out_dir)
    timer.run(
        tool('test.py')
        + [PNEU_CFG, best, '--work-dir', out_dir]
        + ['--out-dir', osp.join(out_dir, 'test_outputs')]
    )
    predictions = osp.join(out_dir, 'test_outputs', 'predictions.csv')
    report(
        f'3/4 PneumoniaMNIST pneumonia vs normal, demo ViT MAE-initialised, '
        f'{sched.length} epochs (selected on validation: {osp.basename(best)}): '
        f'test {auc_with_ci(latest_test_metrics(out_dir), predictions)} on '
        f'{_count_rows(predictions)} test images (chance 50); {timer.describe()}; '
        f'outputs {out_dir}'
    )

    # 4. lung segmentation with the same pretrained ViT.
    seg_dir = osp.join(work, 'segmentation')
    sched = plan['seg']
    timer = StepTimer()
    timer.run(
        tool('train.py')
        + [SEG_CFG, '--work-dir', seg_dir, '--cfg-options']
        + [f'model.backbone.init_cfg.checkpoint={pre_ckpt}']
        + sched.options(by_epoch=False)
    )
    best = best_checkpoint(seg_dir)
    timer.run(
        tool('test.py')
        + [SEG_CFG, best, '--work-dir', seg_dir]
        + ['--out-dir', osp.join(seg_dir, 'test_outputs')]
        + ['--show-dir', osp.join(seg_dir, 'overlays')]
    )
    dice = _per_image_dice(osp.join(seg_dir, 'test_outputs'))
    low, high = bootstrap_mean_ci(dice)
    report(
        f'4/4 lung segmentation (UPerNet on the MAE ViT), {sched.length} iterations: '
        f'test per-image Dice {100 * dice.mean():.1f} [95 % CI {100 * low:.1f}, '
        f'{100 * high:.1f}] on {dice.size} test images; {timer.describe()}; '
        f'outputs {seg_dir} (overlays in {osp.join(seg_dir, "overlays")})'
    )
    print(f'== demo finished in {time.monotonic() - start:.0f} s ==', flush=True)
    for line in lines:
        print(f'[demo] {line}')
    return lines


def fold_options(fold: str, folds: Sequence[str] = NIH_FOLDS) -> list[str]:
    """``--cfg-options`` of one fold: train on the others, test on it."""
    others = ','.join(name for name in folds if name != fold)
    return [
        f'train_dataloader.dataset.split=[{others}]',
        f'test_dataloader.dataset.split={fold}',
    ]


def fold_checkpoint(out_dir: str, fold: str) -> str:
    """The final checkpoint of one fold (mmengine's ``last_checkpoint``)."""
    with open(osp.join(out_dir, fold, 'last_checkpoint')) as handle:
        return handle.read().strip()


def cross_fit(
    config: str,
    out_dir: str,
    sched: Schedule,
    folds: Sequence[str] = NIH_FOLDS,
    all_folds: Sequence[str] = NIH_FOLDS,
    jobs: int = 2,
) -> tuple[StepTimer, dict]:
    """Train and test ``config`` once per fold of ``folds`` (each trained on
    the rest of ``all_folds``; ``jobs`` at a time, a share of the cores each),
    then pool their out-of-fold predictions into ``out_dir/test_outputs``
    (:func:`~cxr_plugins.evaluation.metrics.pooled_folds.evaluate_pooled_folds`)."""
    from cxr_plugins.evaluation.metrics.pooled_folds import evaluate_pooled_folds

    cores = len(os.sched_getaffinity(0))
    env = dict(os.environ)
    env.setdefault('OMP_NUM_THREADS', str(max(1, cores // jobs)))

    def one(fold: str) -> StepTimer:
        fold_dir = osp.join(out_dir, fold)
        timer = StepTimer()
        timer.run(
            tool('train.py')
            + [config, '--work-dir', fold_dir, '--cfg-options']
            + sched.options()
            + fold_options(fold, all_folds),
            env=env,
        )
        timer.run(
            tool('test.py')
            + [config, fold_checkpoint(out_dir, fold), '--work-dir', fold_dir]
            + ['--out-dir', osp.join(fold_dir, 'test_outputs'), '--cfg-options']
            + fold_options(fold, all_folds),
            env=env,
        )
        return timer

    start = time.monotonic()
    with ThreadPoolExecutor(max_workers=jobs) as pool:
        timers = list(pool.map(one, folds))
    evaluator = Config.fromfile(config).test_evaluator
    metrics = evaluate_pooled_folds(
        [osp.join(out_dir, f, 'test_outputs', 'predictions.csv') for f in folds],
        osp.join(out_dir, 'test_outputs'),
        subset_classes=evaluator.get('subset_classes', ()),
        bootstrap=evaluator.get('bootstrap', 1000),
    )
    return StepTimer.parallel(timers, time.monotonic() - start), metrics


def auc_with_ci(metrics: dict, predictions_csv: str, subset: Sequence[str] = ()) -> str:
    """``mAUC x [95 % CI a, b]`` over the classes defined on the test set
    (both label values present in ``predictions.csv``), and over ``subset``
    (the test evaluator's ``subset_classes``, ``auc/mAUC_subset``) if given."""

    def one(key: str) -> str:
        return (
            f'{metrics[key]:.1f} [95 % CI {metrics[key + "_ci_low"]:.1f}, '
            f'{metrics[key + "_ci_high"]:.1f}]'
        )

    with open(predictions_csv, newline='') as handle:
        rows = list(csv.DictReader(handle))
    columns = [c for c in rows[0] if c.startswith('gt_')]
    defined = sum(len({row[c] for row in rows} & {'0', '1'}) == 2 for c in columns)
    if len(columns) == 1:
        text = f'AUC {one("auc/mAUC")}'
    else:
        text = (
            f'mAUC {one("auc/mAUC")} over the {defined} classes defined on the test set'
        )
    if subset:
        text += f', {one("auc/mAUC_subset")} over {", ".join(subset)}'
    return text


def prediction_spread(predictions_csv: str) -> dict[str, float]:
    """Per-class standard deviation of the predicted probability across test
    images (a classifier that ignores the image has spread ~0)."""
    with open(predictions_csv, newline='') as handle:
        rows = list(csv.DictReader(handle))
    if not rows:
        raise ValueError(f'{predictions_csv}: no rows')
    columns = [c for c in rows[0] if c.startswith('prob_')]
    return {
        c[len('prob_') :]: float(np.std([float(r[c]) for r in rows])) for c in columns
    }


def cam_contrast(
    config: str, checkpoint: str, images: Sequence[str], target_layer: str | None = None
) -> np.ndarray:
    """Per image, max - min of the Grad-CAM of its most probable class
    (pytorch-grad-cam scales each map to [0, 1]: a blank map gives 0)."""
    import torch

    from cxr_plugins.apis.inference import init_classifier, prepare_batch
    from cxr_plugins.visualization import compute_cams

    model = init_classifier(config, checkpoint)
    contrasts = []
    for path in images:
        batch = prepare_batch(model, [path])
        inputs = model.data_preprocessor(batch, training=False)['inputs']
        with torch.no_grad():
            probs = model.test_step(batch)[0].pred_score.cpu().numpy()
        cam = compute_cams(model, inputs, [int(np.argmax(probs))], target_layer)[0, 0]
        contrasts.append(float(cam.max() - cam.min()))
    return np.array(contrasts)


# ResNet-18 at 64 px: layer4 is a 2x2 map (Grad-CAM all zero on the demo's
# test images); layer3 (4x4) is the finest map that still carries class evidence.
CAM_LAYER = 'layer3'


def classifier_check(
    config: str, checkpoint: str, predictions: str, fold_predictions: str, cams: int = 8
) -> str:
    """One line: does the classifier look at the image? Per-class spread of
    its pooled test predictions and the Grad-CAM contrast of one fold's model
    on a few of that fold's test images (both 0 for a classifier that outputs
    its label priors)."""
    spread = prediction_spread(predictions)
    with open(fold_predictions, newline='') as handle:
        images = [row['img_path'] for row in csv.DictReader(handle)][:cams]
    contrast = cam_contrast(config, checkpoint, images, CAM_LAYER)
    low = min(spread, key=spread.get)
    return (
        f'   check: sd of the predicted probability across test images, per class: '
        f'median {np.median(list(spread.values())):.3f}, lowest {spread[low]:.3f} '
        f'({low}); Grad-CAM contrast (max - min, 0 = blank) of the top class on '
        f'{len(images)} test images ({CAM_LAYER}): min {contrast.min():.2f}, median '
        f'{np.median(contrast):.2f}'
    )


def subset_classes(config: str) -> tuple[str, ...]:
    """The ``subset_classes`` of a config's test evaluator (may be none)."""
    return tuple(Config.fromfile(config).test_evaluator.get('subset_classes', ()))


def _count_rows(path: str) -> int:
    with open(path, newline='') as handle:
        return sum(1 for _ in csv.DictReader(handle))


def _per_image_dice(out_dir: str) -> np.ndarray:
    """Per-image Dice (0-1) from the CSV that ``SIIMDice`` writes."""
    path = osp.join(out_dir, 'per_image_dice.csv')
    with open(path, newline='') as handle:
        rows = list(csv.DictReader(handle))
    if not rows:
        raise ValueError(f'{path}: no rows')
    return np.array([float(row['dice']) for row in rows])


def demo_figure(work: str, out: str, nih_cfg: str = NIH_CFG) -> str:
    """One PNG of the demo's outputs: MAE reconstruction, Grad-CAM and lung
    overlay of held-out images, drawn by the suite's own tools
    (``tools/analysis/vis_reconstruction.py``, ``tools/analysis/gradcam.py``,
    ``tools/test.py --show-dir``), composed side by side."""
    from matplotlib.figure import Figure
    from matplotlib.image import imread

    panels_dir = osp.join(work, 'figure_panels')
    predictions = osp.join(
        work, 'classification', 'fold0', 'test_outputs', 'predictions.csv'
    )
    with open(predictions, newline='') as handle:
        image = next(csv.DictReader(handle))['img_path']
    recon = osp.join(panels_dir, 'reconstruction.png')
    subprocess.run(
        tool('analysis/vis_reconstruction.py')
        + [PRE_CFG, osp.join(work, 'pretrain', 'epoch_20.pth')]
        + ['--images', image, '--out', recon],
        check=True,
    )
    subprocess.run(
        tool('analysis/gradcam.py')
        + [nih_cfg, fold_checkpoint(osp.join(work, 'classification'), 'fold0'), image]
        + ['--out-dir', panels_dir, '--top-k', '1', '--target-layer', CAM_LAYER],
        check=True,
    )
    cam = osp.join(panels_dir, f'{osp.splitext(osp.basename(image))[0]}_gradcam.png')
    overlays = sorted(
        glob.glob(
            osp.join(work, 'segmentation', 'overlays', '**', '*.png'), recursive=True
        )
    )
    if not overlays:
        raise FileNotFoundError(f'{work}/segmentation/overlays: no overlay PNG')
    pictures = [imread(recon), imread(cam), imread(overlays[0])]
    titles = [
        'MAE: image / masked 75 % / reconstruction',
        f'NIH-14 ResNet-18 (fold 0): Grad-CAM ({CAM_LAYER}) of its top class',
        'lungs, test image: expert mask | prediction',
    ]
    widths = [p.shape[1] / p.shape[0] for p in pictures]
    figure = Figure(figsize=(2.4 * sum(widths), 2.8))
    axes = figure.subplots(1, 3, gridspec_kw=dict(width_ratios=widths))
    for axis, picture, title in zip(axes, pictures, titles):
        axis.imshow(picture)
        axis.set_title(title, fontsize=8)
        axis.axis('off')
    figure.tight_layout()
    figure.savefig(out, dpi=100)
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__.splitlines()[0],
        epilog='example: python -m cxr_plugins.apis.demo work_dirs/demo --quick',
    )
    parser.add_argument('work_dir', nargs='?', default='work_dirs/demo')
    parser.add_argument('--quick', action='store_true', help='smoke schedules')
    parser.add_argument(
        '--figure',
        metavar='PNG',
        help='only draw the outputs figure of an existing WORK_DIR into PNG',
    )
    args = parser.parse_args(argv)
    if args.figure:
        print(f'saved {demo_figure(args.work_dir, args.figure)}')
        return 0
    run_demo(args.work_dir, args.quick)
    return 0


if __name__ == '__main__':
    sys.exit(main())
