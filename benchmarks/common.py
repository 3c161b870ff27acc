"""Shared helpers of the benchmark scripts: machine facts, timing, tables."""

from __future__ import annotations

import os
import platform
import statistics
import time
from collections.abc import Callable, Sequence
from datetime import datetime, timezone
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
SHARED_DATA = REPO_ROOT.parent / 'shared' / 'data'


def machine_line() -> str:
    """Date, CPU model, usable cores and load, for the head of every table."""
    model = platform.processor() or platform.machine()
    cpuinfo = Path('/proc/cpuinfo')
    if cpuinfo.is_file():
        for line in cpuinfo.read_text().splitlines():
            if line.startswith('model name'):
                model = line.split(':', 1)[1].strip()
                break
    load = ', '.join(f'{value:.1f}' for value in os.getloadavg())
    stamp = datetime.now(timezone.utc).strftime('%Y-%m-%d %H:%M UTC')
    return (
        f'{stamp} | {model} | {len(os.sched_getaffinity(0))} cores | '
        f'load average {load}'
    )


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
