"""One worker process of the scheduler: how it is started, and the slot that tracks it.

Workers are fresh interpreters (``python -m jupyter_qrt.local.workers.worker``), never forks:
the service process runs an event loop and threads, which fork does not copy safely. Unlike
``multiprocessing``'s spawn, this does not re-import the user's ``__main__`` either, so a plain
script that starts the service needs no ``if __name__ == "__main__"`` guard.
"""

from __future__ import annotations

import contextlib
import logging
import os
import socket
import subprocess
import sys
import threading
from dataclasses import dataclass
from pathlib import Path

from jupyter_qrt.local.jobs.queue import ClaimedJob

from .protocol import JobDone

__all__ = ["WorkerSlot", "spawn_worker", "usable_cpus"]

log = logging.getLogger(__name__)

_PACKAGE_ROOT = str(Path(__file__).resolve().parents[2])


@dataclass
class WorkerSlot:
    """One worker process and what it is doing.

    ``restart_at`` is set (a ``time.monotonic()`` value) while the slot's process is gone and a
    new one waits for the restart back-off to pass; the socket is closed then. ``started`` is
    when the slot's job was handed over; ``held`` the result of a paced job kept back until
    ``hold_until`` (see :mod:`.pacing`): its worker is idle then, the job still Running.
    """

    name: str
    process: subprocess.Popen[bytes]
    sock: socket.socket
    ready: bool = False
    job: ClaimedJob | None = None
    deadline: float | None = None
    restart_at: float | None = None
    started: float = 0.0
    held: JobDone | None = None
    hold_until: float | None = None

    def kill(self) -> None:
        """Kill the process (if alive) and close the socket."""
        if self.process.poll() is None:
            self.process.kill()
        try:
            self.process.wait(timeout=5)
        except subprocess.TimeoutExpired:  # pragma: no cover - SIGKILL is not ignorable
            log.warning(
                "Worker %s (pid %d) did not exit after SIGKILL", self.name, self.process.pid
            )
        self.sock.close()


def spawn_worker(name: str, init_message: bytes, threads: int) -> WorkerSlot:
    """Start a worker process and send it ``init_message`` (an encoded ``WorkerInit``).

    Parameters
    ----------
    name
        The worker's name in logs.
    init_message
        The encoded :class:`~.worker_protocol.WorkerInit`; sent by a helper thread, so that
        the caller never waits for a worker that is still starting.
    threads
        ``OMP_NUM_THREADS`` of the worker, unless the environment sets it.

    Raises
    ------
    OSError
        The process or its socket could not be created (nothing is left open then).
    """
    parent_sock, child_sock = socket.socketpair()
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (_PACKAGE_ROOT, env.get("PYTHONPATH", "")) if p)
    env.setdefault("OMP_NUM_THREADS", str(threads))
    try:
        process = subprocess.Popen(
            [sys.executable, "-m", "jupyter_qrt.local.workers.worker", str(child_sock.fileno())],
            pass_fds=(child_sock.fileno(),),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            env=env,
        )
    except BaseException:
        parent_sock.close()
        raise
    finally:
        child_sock.close()
    threading.Thread(
        target=_send_quietly, args=(parent_sock, init_message), name=f"{name}-init", daemon=True
    ).start()
    return WorkerSlot(name=name, process=process, sock=parent_sock)


def _send_quietly(sock: socket.socket, encoded: bytes) -> None:
    # If the worker died at once, the dispatcher notices and replaces it.
    with contextlib.suppress(OSError):
        sock.sendall(encoded)


def usable_cpus() -> int:
    """CPUs this process may run on (its affinity mask, where the OS has one), at least 1."""
    if hasattr(os, "sched_getaffinity"):
        return max(1, len(os.sched_getaffinity(0)))
    return os.cpu_count() or 1
