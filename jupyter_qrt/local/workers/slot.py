"""One worker process of the scheduler: how it is started, and the slot that tracks it.

Workers are fresh interpreters (``python -m jupyter_qrt.local.workers.worker``), never forks:
the service process runs an event loop and threads, which fork does not copy safely. Unlike
``multiprocessing``'s spawn, this does not re-import the user's ``__main__`` either, so a plain
script that starts the service needs no ``if __name__ == "__main__"`` guard.

The scheduler's dispatcher thread must never wait for a worker: it reads with
:meth:`WorkerSlot.read_available` (what has arrived, never more), and a worker it stops is
killed with :meth:`WorkerSlot.kill_later` and handed to a :class:`Reaper` thread, which waits
for the process to exit and collects its exit status (no zombie is left behind).
"""

from __future__ import annotations

import contextlib
import logging
import os
import queue
import socket
import subprocess
import sys
import threading
from dataclasses import dataclass, field
from pathlib import Path

from jupyter_qrt.local.jobs.queue import ClaimedJob

from .protocol import JobDone, MessageReader

__all__ = ["Reaper", "WorkerSlot", "spawn_worker"]

log = logging.getLogger(__name__)

_PACKAGE_ROOT = str(Path(__file__).resolve().parents[2])


@dataclass
class WorkerSlot:
    """One worker process and what it is doing.

    ``restart_at`` is set (a ``time.monotonic()`` value) while the slot's process is gone and a
    new one waits for the restart back-off to pass; the socket is closed then. ``ready_by`` (also
    ``time.monotonic()``) is when a worker that is not ready yet is given up on. ``started`` is
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
    ready_by: float | None = None
    reader: MessageReader = field(default_factory=MessageReader)
    started: float = 0.0
    held: JobDone | None = None
    hold_until: float | None = None

    def read_available(self, limit: int = 1 << 24) -> tuple[list[object], bool]:
        """The messages completed by the bytes that have arrived; never waits for more.

        Reads at most about ``limit`` bytes, so that one chatty worker cannot hold the caller.
        Returns the messages and whether the connection is still open (False once the worker
        has closed its end or the socket failed; the messages sent before count still).
        """
        messages: list[object] = []
        received = 0
        while received < limit:
            try:
                data = self.sock.recv(1 << 20, socket.MSG_DONTWAIT)
            except (BlockingIOError, InterruptedError):
                break
            except OSError:
                return messages, False
            if not data:
                return messages, False
            received += len(data)
            messages += self.reader.feed(data)
        return messages, True

    def kill_later(self, reaper: Reaper) -> None:
        """Kill the process (if alive), close the socket; ``reaper`` waits for the exit."""
        if self.process.poll() is None:
            with contextlib.suppress(OSError):  # it exited meanwhile
                self.process.kill()
            reaper.reap(self.name, self.process)
        self.sock.close()

    def kill(self) -> None:
        """Kill the process (if alive), wait for it to exit and close the socket."""
        if self.process.poll() is None:
            with contextlib.suppress(OSError):
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


class Reaper:
    """A thread that waits for killed workers to exit, so that nobody else has to."""

    def __init__(self) -> None:
        self._queue: queue.SimpleQueue[tuple[str, subprocess.Popen[bytes]] | None] = (
            queue.SimpleQueue()
        )
        self._thread = threading.Thread(target=self._run, name="qrt-reaper", daemon=True)
        self._thread.start()

    def reap(self, name: str, process: subprocess.Popen[bytes]) -> None:
        """Wait (in the reaper thread) for ``process``, which was sent SIGKILL, to exit."""
        self._queue.put((name, process))

    def close(self, timeout: float = 5.0) -> None:
        """Reap what is queued still, then end the thread (waits up to ``timeout`` s)."""
        self._queue.put(None)
        self._thread.join(timeout)

    def _run(self) -> None:
        while (item := self._queue.get()) is not None:
            name, process = item
            try:
                code = process.wait(timeout=30)
            except subprocess.TimeoutExpired:  # pragma: no cover - SIGKILL is not ignorable
                log.warning("Worker %s (pid %d) did not exit after SIGKILL", name, process.pid)
                continue
            log.debug("Worker %s (pid %d) exited with code %s", name, process.pid, code)
