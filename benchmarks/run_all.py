"""Run the benchmarks in turn: ``python benchmarks/run_all.py [--quick]``.

Each benchmark runs in its own process (so its threads and memory figures are
its own) and prints markdown tables with ratios to its in-run baseline.
``--only input train eval index threads nan_guard`` picks some of them;
input, train, threads and nan_guard also write CSV/JSON under ``--out``.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
BENCHMARKS = {
    'input': 'benchmarks.bench_input_pipeline',
    'train': 'benchmarks.bench_train_step',
    'eval': 'benchmarks.bench_eval',
    'index': 'benchmarks.bench_dataset_index',
    'threads': 'benchmarks.bench_threads',
    'nan_guard': 'benchmarks.bench_nan_guard',
}
# scripts that take --out (CSV/JSON results)
WRITES_RESULTS = ('input', 'train', 'threads', 'nan_guard')


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument(
        '--quick', action='store_true', help='smaller batches, fewer repeats'
    )
    parser.add_argument(
        '--only', nargs='+', choices=list(BENCHMARKS), default=list(BENCHMARKS)
    )
    parser.add_argument(
        '--out',
        type=Path,
        default=REPO_ROOT / 'work_dirs' / 'benchmarks',
        help='folder for the CSV/JSON results (default work_dirs/benchmarks)',
    )
    args = parser.parse_args(argv)
    env = {**os.environ, 'PYTHONWARNINGS': 'ignore'}
    failed = []
    for name in args.only:
        command = [sys.executable, '-u', '-m', BENCHMARKS[name]]
        if args.quick:
            command.append('--quick')
        if name in WRITES_RESULTS:
            command += ['--out', str(args.out)]
        start = time.perf_counter()
        result = subprocess.run(command, cwd=REPO_ROOT, env=env)
        seconds = time.perf_counter() - start
        print(f'[{name}: {seconds:.0f} s, exit {result.returncode}]', flush=True)
        if result.returncode != 0:
            failed.append(name)
    if failed:
        sys.exit(f'benchmarks failed: {failed}')


if __name__ == '__main__':
    main()
