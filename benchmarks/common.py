"""Shared helpers of the benchmark scripts: machine facts, timing, tables."""

from __future__ import annotations

import json
import os
import platform
import statistics
import time
from collections.abc import Callable, Sequence
from datetime import datetime, timezone
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
SHARED_DATA = REPO_ROOT.parent / 'shared' / 'data'


def machine_facts() -> dict:
    """Date, CPU model and features, usable cores and load, read now."""
    import torch

    from cxr_plugins.engine.optimizers.cpu_amp import cpu_bf16_support, cpu_flags

    model = platform.processor() or platform.machine()
    cpuinfo = Path('/proc/cpuinfo')
    if cpuinfo.is_file():
        for line in cpuinfo.read_text().splitlines():
            if line.startswith('model name'):
                model = line.split(':', 1)[1].strip()
                break
    flags = cpu_flags()
    shown = ('avx2', 'fma', 'avx512f', 'avx512_bf16', 'amx_bf16', 'amx_tile', 'bf16')
    return dict(
        date=datetime.now(timezone.utc).strftime('%Y-%m-%d %H:%M UTC'),
        cpu=model,
        cpu_flags=[flag for flag in shown if flag in flags],
        torch_cpu_capability=torch.backends.cpu.get_cpu_capability(),
        native_bf16=cpu_bf16_support()[0],
        usable_cores=len(os.sched_getaffinity(0)),
        load_average=[round(value, 2) for value in os.getloadavg()],
        torch=torch.__version__,
    )


def machine_line() -> str:
    """:func:`machine_facts` on one line, for the head of every table."""
    facts = machine_facts()
    load = ', '.join(f'{value:.1f}' for value in facts['load_average'])
    return (
        f'{facts["date"]} | {facts["cpu"]} | flags {" ".join(facts["cpu_flags"])} '
        f'(torch {facts["torch_cpu_capability"]}) | {facts["usable_cores"]} cores | '
        f'load average {load}'
    )


def write_results(stem: Path, rows: list[dict], facts: dict) -> None:
    """``stem.csv`` and ``stem.json`` (rows + machine facts), written atomically."""
    stem.parent.mkdir(parents=True, exist_ok=True)
    header = list(rows[0])
    lines = [','.join(header)] + [
        ','.join(
            f'"{row[key]}"'
            if isinstance(row[key], str)
            else f'{row[key]:.6g}'
            if isinstance(row[key], float)
            else str(row[key])
            for key in header
        )
        for row in rows
    ]
    for suffix, text in (
        ('.csv', '\n'.join(lines) + '\n'),
        ('.json', json.dumps(dict(machine=facts, rows=rows), indent=1) + '\n'),
    ):
        target = stem.with_suffix(suffix)
        temporary = target.with_suffix(suffix + '.tmp')
        temporary.write_text(text)
        temporary.replace(target)
    print(f'results: {stem}.csv, {stem}.json', flush=True)


def timed(fn: Callable[[], object]) -> float:
    """Wall seconds of one call."""
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def median(values: Sequence[float]) -> float:
    """The median (the figure every table reports)."""
    return statistics.median(values)


def print_table(title: str, header: Sequence[str], rows: Sequence[Sequence]) -> None:
    """A GitHub-markdown table, floats to three significant digits."""

    def cell(value) -> str:
        if isinstance(value, float):
            return f'{value:.3g}' if abs(value) < 1e4 else f'{value:,.0f}'
        return str(value)

    print(f'\n### {title}\n')
    print('| ' + ' | '.join(header) + ' |')
    print('|' + '---|' * len(header))
    for row in rows:
        print('| ' + ' | '.join(cell(value) for value in row) + ' |')
    print(flush=True)
