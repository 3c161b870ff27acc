"""Helpers to run the repository's command-line tools in a subprocess."""

import os
import socket
import subprocess
import sys
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]


def free_port() -> int:
    """A TCP port nobody listens on right now."""
    with socket.socket() as sock:
        sock.bind(('127.0.0.1', 0))
        return sock.getsockname()[1]


def run_tool(
    args: list[str], timeout: float = 600, **env: str
) -> subprocess.CompletedProcess:
    """Run ``args`` from the repository root with this interpreter as PYTHON."""
    environment = dict(os.environ, PYTHON=sys.executable, OMP_NUM_THREADS='1', **env)
    return subprocess.run(
        args,
        cwd=REPO_ROOT,
        env=environment,
        text=True,
        capture_output=True,
        timeout=timeout,
    )


def output_of(result: subprocess.CompletedProcess) -> str:
    """stdout and stderr together, for assertion messages."""
    return result.stdout + '\n' + result.stderr
