"""The memory a job may use in a worker process: how the limit is set, and what a job that
exceeds it is told.

The limit (see :mod:`.config`) counts what a job allocates on top of the worker itself:
a worker that has imported qiskit and qiskit-aer already maps about a gigabyte of address space
(mostly reserved, not used), which says nothing about the machine. So once the imports are done,
the worker sets ``RLIMIT_DATA`` (Linux counts every private writable mapping in it, ``malloc``'s
and ``mmap``'s alike) to its current data size plus the limit. An allocation beyond it fails
inside the process (numpy raises ``MemoryError``, qiskit-aer reports "Cannot allocate memory"),
so the job fails with a message instead of the machine running out of memory; the worker then
exits, to be replaced by a fresh one.

The same limit caps how far the job's compressed circuits and arrays may inflate while they are
decoded (a zlib bomb is refused before its memory is taken).

Where the OS does not report a process's data size (no ``/proc``), the limit is not applied and
a warning says so.
"""

from __future__ import annotations

import logging
import resource
from pathlib import Path

__all__ = [
    "apply_memory_limit",
    "is_out_of_memory",
    "out_of_memory_reason",
    "payload_too_large_reason",
]

log = logging.getLogger(__name__)

_MIB = 1 << 20
# How qiskit-aer and C++ code report a failed allocation (lower case).
_ALLOCATION_FAILED = ("cannot allocate memory", "bad_alloc", "out of memory", "memoryerror")
_HOW_TO_RAISE = (
    "start the service with a larger limit: jupyter-qrt serve --worker-memory-mb N (or set "
    "QRT_WORKER_MEMORY_MB=N, or pass LocalRuntime(worker_memory_mb=N); 0 turns the limit off)."
)


def apply_memory_limit(limit: int | None) -> bool:
    """Let this process allocate at most ``limit`` more bytes from now on (None: no limit).

    Returns whether a limit is in effect.
    """
    if limit is None:
        return False
    current = _data_size()
    if current is None:
        log.warning(
            "This OS does not report the data size of a process: the memory limit of %d MiB "
            "a job is not applied.",
            limit // _MIB,
        )
        return False
    soft = current + limit
    _, hard = resource.getrlimit(resource.RLIMIT_DATA)
    if hard != resource.RLIM_INFINITY:
        soft = min(soft, hard)
    resource.setrlimit(resource.RLIMIT_DATA, (soft, hard))
    return True


def _data_size() -> int | None:
    """Bytes of this process's data segment and private mappings (``VmData``), if known."""
    try:
        lines = Path("/proc/self/status").read_text().splitlines()
    except OSError:
        return None
    for line in lines:
        if line.startswith("VmData:"):
            fields = line.split()
            if len(fields) >= 2 and fields[1].isdigit():
                return int(fields[1]) * 1024  # reported in kB
    return None


def is_out_of_memory(error: BaseException | str) -> bool:
    """Whether ``error`` (an exception or a simulator's message) says an allocation failed."""
    if isinstance(error, MemoryError):
        return True
    text = error if isinstance(error, str) else f"{type(error).__name__}: {error}"
    return any(token in text.lower() for token in _ALLOCATION_FAILED)


def out_of_memory_reason(limit: int) -> str:
    """The reason of a job that needed more memory than ``limit`` bytes."""
    return (
        f"The job needed more memory than the {limit // _MIB} MiB a job may use on this local "
        "service. Use fewer qubits (a statevector of n qubits takes 16 * 2**n bytes), fewer "
        "shots, pubs or parameter values, or " + _HOW_TO_RAISE
    )


def payload_too_large_reason(limit: int) -> str:
    """The reason of a job whose compressed circuits and arrays inflate past ``limit`` bytes."""
    return (
        "The job's circuits and arrays (zlib-compressed in the request) inflate to more than "
        f"the {limit // _MIB} MiB a job may use on this local service. Send fewer or smaller "
        "circuits and parameter arrays (or split the pubs over several jobs), or " + _HOW_TO_RAISE
    )
