"""Helpers for tests that run ``jupyter-qrt serve`` as a subprocess and watch its processes.

Linux only (they read ``/proc``), as the tests that use them are.
"""

from __future__ import annotations

import shlex
import sys
import threading
from pathlib import Path
from typing import IO

__all__ = ["alive", "cli", "parse_exports", "read_lines", "workers_of"]


def cli(*args: str) -> list[str]:
    """The command line of ``jupyter-qrt ARGS`` in this interpreter."""
    return [sys.executable, "-m", "jupyter_qrt.local.cli", *args]


def read_lines(stream: IO[str], count: int, timeout: float) -> list[str]:
    """The first ``count`` lines of a pipe, or fewer if it stays silent for ``timeout`` s."""
    lines: list[str] = []

    def read() -> None:
        for _ in range(count):
            line = stream.readline()
            if not line:
                return
            lines.append(line.rstrip("\n"))

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    reader.join(timeout)
    return lines


def parse_exports(lines: list[str]) -> dict[str, str]:
    """``{"NAME": "value"}`` of ``export NAME=value`` lines (values shell-quoted)."""
    env = {}
    for line in lines:
        name, _, value = line.removeprefix("export ").partition("=")
        env[name] = shlex.split(value)[0] if value else ""
    return env


def workers_of(pid: int) -> list[int]:
    """Pids of the worker processes whose parent is ``pid``."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            status = (entry / "status").read_text()
            cmdline = (entry / "cmdline").read_bytes()
        except OSError:
            continue
        parent = next((line for line in status.splitlines() if line.startswith("PPid:")), "")
        if parent.split()[1:] == [str(pid)] and b"jupyter_qrt.local.workers.worker" in cmdline:
            found.append(int(entry.name))
    return found


def alive(pid: int) -> bool:
    """Whether ``pid`` runs (a zombie has ended; only its parent's reaping is left)."""
    try:
        status = (Path("/proc") / str(pid) / "status").read_text()
    except OSError:
        return False
    return "State:\tZ" not in status
