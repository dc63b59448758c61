"""Limits of the scheduler's worker processes: how long one may take to start, how much memory
a job may use in one.

Each limit comes from, in this order: the argument given to :class:`~.core.LocalRuntime` (or
``jupyter-qrt serve``), an environment variable (useful where the service is started for you,
e.g. by the Jupyter extension), or a default:

- start-up deadline: ``worker_start_seconds``, ``QRT_WORKER_START_SECONDS``; default 120 s.
- memory one job may use: ``worker_memory_mb`` (``--worker-memory-mb``),
  ``QRT_WORKER_MEMORY_MB``; default 3/4 of the machine's memory shared among the workers, at
  least 1 GiB; 0 turns the limit off.

Each worker's simulator threads (``OMP_NUM_THREADS``) default to the cores the service may run on
(:func:`usable_cpus`: its CPU affinity, e.g. a container's share) divided by the number of
workers: OpenMP threads of several processes competing for the same cores make every run many
times slower than running them one after the other.

A worker imports qiskit and qiskit-aer before it is ready, which takes a few seconds (longer on
a busy machine); one that is not ready by the deadline is killed and replaced, so that a hung
start never holds a slot. The memory limit keeps one job from taking the whole machine (and the
other jobs and the notebook with it): the job fails with a message instead.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping

__all__ = [
    "DEFAULT_START_SECONDS",
    "MEMORY_MB_ENV",
    "START_SECONDS_ENV",
    "default_memory_mb",
    "memory_limit_bytes",
    "start_seconds",
    "usable_cpus",
]

log = logging.getLogger(__name__)

START_SECONDS_ENV = "QRT_WORKER_START_SECONDS"
MEMORY_MB_ENV = "QRT_WORKER_MEMORY_MB"
#: Seconds a worker may take from its start until it is ready for jobs.
DEFAULT_START_SECONDS = 120.0
_MIN_DEFAULT_MEMORY_MB = 1024
_MIB = 1 << 20


def start_seconds(value: float | None, environ: Mapping[str, str] | None = None) -> float:
    """The start-up deadline in seconds: ``value``, else the environment's, else the default.

    Raises
    ------
    ValueError
        The value is not a positive number (the message names where it came from).
    """
    env = os.environ if environ is None else environ
    source = "worker_start_seconds"
    if value is None and env.get(START_SECONDS_ENV):
        source = f"${START_SECONDS_ENV}"
        try:
            value = float(env[START_SECONDS_ENV])
        except ValueError:
            value = float("nan")
    if value is None:
        return DEFAULT_START_SECONDS
    if not value > 0 or value == float("inf"):
        raise ValueError(
            f"{source} must be a positive number of seconds (a worker's start-up deadline), "
            f"not {value!r}; the default is {DEFAULT_START_SECONDS:.0f}."
        )
    return float(value)


def default_memory_mb(workers: int) -> int:
    """MiB a job may use by default: 3/4 of physical memory shared by ``workers``, >= 1 GiB."""
    try:
        total = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (AttributeError, ValueError, OSError):
        return 4 * _MIN_DEFAULT_MEMORY_MB  # the OS does not say: a moderate guess
    return max(_MIN_DEFAULT_MEMORY_MB, int(total * 3 // 4 // max(workers, 1) // _MIB))


def memory_limit_bytes(
    value_mb: int | None, workers: int, environ: Mapping[str, str] | None = None
) -> int | None:
    """Bytes a job may allocate in a worker, or None for no limit (``0`` MiB turns it off).

    Parameters
    ----------
    value_mb
        The limit in MiB as configured (None: the environment's, else :func:`default_memory_mb`).
    workers
        Number of worker processes (the default shares the machine's memory among them).

    Raises
    ------
    ValueError
        The value is not a whole number >= 0 (the message names where it came from).
    """
    env = os.environ if environ is None else environ
    source = "worker_memory_mb (--worker-memory-mb)"
    raw: object = value_mb
    if value_mb is None and env.get(MEMORY_MB_ENV):
        source = f"${MEMORY_MB_ENV}"
        raw = env[MEMORY_MB_ENV].strip()
        try:
            value_mb = int(env[MEMORY_MB_ENV])
        except ValueError:
            value_mb = -1
    if value_mb is None:
        value_mb = default_memory_mb(workers)
    if isinstance(value_mb, bool) or not isinstance(value_mb, int) or value_mb < 0:
        raise ValueError(
            f"{source} must be a whole number of MiB >= 0 (the memory one job may use; 0 for "
            f"no limit), not {raw!r}."
        )
    return value_mb * _MIB if value_mb else None


def usable_cpus() -> int:
    """CPUs this process may run on (its affinity mask, where the OS has one), at least 1."""
    if hasattr(os, "sched_getaffinity"):
        return max(1, len(os.sched_getaffinity(0)))
    return os.cpu_count() or 1
