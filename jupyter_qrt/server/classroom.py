"""Classroom keys out of reach of the server's children.

A JupyterHub spawner gives the single-user server its classroom key in ``QISKIT_IBM_TOKEN``.
Removing it from :data:`os.environ` keeps it out of the environment kernels and terminals inherit,
but on Linux the process's *initial* environment stays readable in ``/proc/<pid>/environ`` by
every process of the same user, kernels included (``unsetenv`` only drops the pointer).
:func:`scrub_process_environ` overwrites the value in place first, so that file shows ``x``s.

This is defence in depth, not isolation: code running as the same OS user as the server (a
student's kernel) can still read files the server reads, such as a ``jupyter_server_config.py``
holding ``read_only_accounts``. The README's "Classroom and JupyterHub" section says so.
"""

from __future__ import annotations

import ctypes
import logging
import sys
from collections.abc import Iterable

__all__ = ["scrub_process_environ"]

log = logging.getLogger(__name__)


def scrub_process_environ(names: Iterable[str]) -> int:
    """Overwrite the values of ``names`` in the C environment block with ``x``, in place.

    Call it before removing the variables from :data:`os.environ` (afterwards the C library no
    longer points at them). Linux with glibc or musl only; elsewhere nothing is done.

    Returns
    -------
    int
        How many values were overwritten.
    """
    if not sys.platform.startswith("linux"):
        return 0
    try:
        libc = ctypes.CDLL(None)
        environ = ctypes.POINTER(ctypes.c_void_p).in_dll(libc, "environ")
    except (OSError, ValueError, AttributeError) as exc:  # no C environ to reach: nothing to do
        log.debug("jupyter-qrt: cannot reach the C environment (%s)", exc)
        return 0
    prefixes = [name.encode() + b"=" for name in names]
    overwritten = 0
    # Bounded: the environment ends with a NULL pointer; 100 000 entries is far beyond any.
    for index in range(100_000):
        address = environ[index]
        if not address:
            break
        entry = ctypes.string_at(address)
        for prefix in prefixes:
            if entry.startswith(prefix) and len(entry) > len(prefix):
                # Same length, so the C string stays well formed for anything still reading it.
                ctypes.memset(address + len(prefix), ord("x"), len(entry) - len(prefix))
                overwritten += 1
    return overwritten
