"""The scheduler of the local runtime service: worker processes and the thread that feeds them.

One thread (the dispatcher) owns the worker processes. It hands the next queued job (see
:meth:`.JobQueue.claim_next`) to each ready, idle worker, receives the outcome and records it,
and stops runs: a cancelled job's worker, or one past its ``cost`` deadline, is killed and
replaced by a fresh process, so a stop takes effect at once whatever the simulator is doing.

Each worker's simulator threads (``OMP_NUM_THREADS``) default to the machine's cores divided by
the number of workers: OpenMP threads of several processes competing for the same cores make
every run many times slower than running them one after the other.

Workers are fresh interpreters (``python -m jupyter_qrt.local.worker``), never forks: the service
process runs an event loop and threads, which fork does not copy safely. Unlike
``multiprocessing``'s spawn, this does not re-import the user's ``__main__`` either, so a plain
script that starts the service needs no ``if __name__ == "__main__"`` guard.
"""

from __future__ import annotations

import contextlib
import logging
import os
import select
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from .job_queue import ClaimedJob, JobQueue
from .job_reasons import WORKER_DIED
from .worker_protocol import (
    JobDone,
    JobFailed,
    RunJob,
    WorkerInit,
    WorkerReady,
    encode_message,
    receive_message,
    send_encoded,
    send_message,
)

__all__ = ["Scheduler", "WorkerSlot"]

log = logging.getLogger(__name__)

_PACKAGE_ROOT = str(Path(__file__).resolve().parents[2])
_MAX_RESTART_DELAY = 30.0
_JOIN_SECONDS = 10.0


@dataclass
class WorkerSlot:
    """One worker process and what it is doing."""

    name: str
    process: subprocess.Popen[bytes]
    sock: socket.socket
    ready: bool = False
    job: ClaimedJob | None = None
    deadline: float | None = None
    started: float = field(default_factory=time.monotonic)

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


class Scheduler:
    """Runs queued jobs in worker processes.

    Parameters
    ----------
    queue
        Claims jobs and records outcomes.
    init
        What every worker is told at start (database path, device catalog, log level).
    workers
        Number of worker processes (jobs that run at the same time).
    tick
        Called about once a second from the dispatcher thread (session expiry).
    threads_per_worker
        Simulator threads of each worker; default: cores // workers (at least 1). An
        ``OMP_NUM_THREADS`` in the environment wins over both.
    """

    def __init__(
        self,
        queue: JobQueue,
        init: WorkerInit,
        workers: int,
        tick: Callable[[], None] = lambda: None,
        threads_per_worker: int | None = None,
    ) -> None:
        if workers < 1:
            raise ValueError(f"workers must be >= 1, got {workers}")
        self._threads = threads_per_worker or max(1, (os.cpu_count() or 1) // workers)
        self._queue = queue
        # Encoded once: the catalog inside may be large, and it may be built further (by other
        # threads) while the service runs.
        self._init = encode_message(init)
        self._size = workers
        self._tick = tick
        self._slots: list[WorkerSlot] = []
        self._lock = threading.Lock()
        self._cancel_requests: set[str] = set()
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None
        self._wake_r, self._wake_w = socket.socketpair()
        self._wake_r.setblocking(False)
        self._wake_w.setblocking(False)
        self._restart_delay = 0.0
        self._restart_at = 0.0
        self._serial = 0

    # ------------------------------------------------------------- public API
    def start(self) -> None:
        """Start the worker processes and the dispatcher thread."""
        if self._thread is not None:
            return
        if not sys.executable:
            raise RuntimeError(
                "Cannot start worker processes: this Python does not know its own executable "
                "(sys.executable is empty)."
            )
        for _ in range(self._size):
            self._slots.append(self._spawn())
        self._thread = threading.Thread(target=self._run, name="qrt-scheduler", daemon=True)
        self._thread.start()

    def stop(self) -> list[str]:
        """Stop the dispatcher and kill every worker; return the ids of the jobs they ran."""
        self._stopping.set()
        self.wake()
        if self._thread is not None:
            self._thread.join(_JOIN_SECONDS)
            if self._thread.is_alive():  # pragma: no cover - the loop never blocks that long
                log.warning("The scheduler thread did not stop within %s s", _JOIN_SECONDS)
        interrupted = [slot.job.job_id for slot in self._slots if slot.job is not None]
        for slot in self._slots:
            slot.kill()
        self._slots.clear()
        self._wake_r.close()
        self._wake_w.close()
        return interrupted

    def wake(self) -> None:
        """Make the dispatcher look at the queue now (thread-safe)."""
        # A full or closed wake-up socket means a wake-up is pending already, or moot.
        with contextlib.suppress(OSError):
            self._wake_w.send(b"x")

    def cancel(self, job_id: str) -> None:
        """Stop the run of a job that was cancelled (thread-safe; its worker is replaced)."""
        with self._lock:
            self._cancel_requests.add(job_id)
        self.wake()

    def running_jobs(self) -> dict[str, str]:
        """Job id -> worker name, for the jobs running now."""
        return {s.job.job_id: s.name for s in list(self._slots) if s.job is not None}

    def worker_pids(self) -> list[int]:
        """Process ids of the current workers."""
        return [slot.process.pid for slot in list(self._slots)]

    # ---------------------------------------------------------- the dispatcher
    def _run(self) -> None:
        next_tick = 0.0
        while not self._stopping.is_set():
            try:
                self._stop_cancelled()
                self._stop_overdue()
                self._replace_dead()
                self._dispatch()
                now = time.monotonic()
                if now >= next_tick:
                    self._tick()
                    next_tick = now + 1.0
                self._wait(min(next_tick, self._next_deadline()) - time.monotonic())
            except Exception:
                # The loop must outlive any one failure (a locked database, a bad message).
                log.exception("The job scheduler hit an error; it carries on")
                self._stopping.wait(0.5)

    def _wait(self, timeout: float) -> None:
        sockets: list[socket.socket] = [self._wake_r]
        # A slot whose replacement could not be started holds a closed socket until retried.
        sockets += [slot.sock for slot in self._slots if slot.sock.fileno() >= 0]
        readable, _, _ = select.select(sockets, [], [], max(timeout, 0.0))
        for sock in readable:
            if sock is self._wake_r:
                with contextlib.suppress(OSError):
                    while self._wake_r.recv(4096):
                        pass
                continue
            slot = next((s for s in self._slots if s.sock is sock), None)
            if slot is not None:
                self._receive(slot)

    def _receive(self, slot: WorkerSlot) -> None:
        message = receive_message(slot.sock)
        if message is None:
            self._worker_died(slot)
            return
        if isinstance(message, WorkerReady):
            slot.ready = True
            self._restart_delay = 0.0
            log.debug("Worker %s ready (pid %d)", slot.name, message.pid)
            return
        job = slot.job
        slot.job = None
        slot.deadline = None
        if job is None or getattr(message, "job_id", None) != job.job_id:
            return  # an answer for a run that was stopped meanwhile
        if isinstance(message, JobDone):
            self._queue.complete(
                message.job_id,
                message.result_zlib,
                quantum_seconds=message.quantum_seconds,
                metrics=message.metrics,
                qiskit_version=message.qiskit_version,
                logs=message.logs,
            )
        elif isinstance(message, JobFailed):
            self._queue.fail(message.job_id, message.reason_code, message.reason, message.logs)

    def _dispatch(self) -> None:
        for slot in self._slots:
            if not slot.ready or slot.job is not None:
                continue
            job = self._queue.claim_next(slot.name)
            if job is None:
                return
            try:
                send_message(
                    slot.sock, RunJob(job.job_id, job.program_id, job.backend, job.log_level)
                )
            except OSError:
                self._queue.requeue(
                    [job.job_id], "Its worker stopped before the run began; queued again."
                )
                slot.ready = False
                continue
            slot.job = job
            slot.deadline = time.monotonic() + job.cost

    def _stop_cancelled(self) -> None:
        with self._lock:
            requests, self._cancel_requests = self._cancel_requests, set()
        for index, slot in enumerate(self._slots):
            if slot.job is not None and slot.job.job_id in requests:
                log.info("Stopping job %s (cancelled) on %s", slot.job.job_id, slot.name)
                slot.job = None
                self._replace(index)

    def _stop_overdue(self) -> None:
        now = time.monotonic()
        for index, slot in enumerate(self._slots):
            job = slot.job
            if job is not None and slot.deadline is not None and now >= slot.deadline:
                log.info("Stopping job %s: past its max execution time", job.job_id)
                slot.job = None
                self._replace(index)
                self._queue.stop_too_long(job.job_id, job.cost)

    def _replace_dead(self) -> None:
        for index, slot in enumerate(self._slots):
            if slot.process.poll() is not None:
                self._worker_died(slot, index)

    def _worker_died(self, slot: WorkerSlot, index: int | None = None) -> None:
        try:
            code: int | None = slot.process.wait(timeout=2)
        except subprocess.TimeoutExpired:
            code = None  # the socket closed but the process lingers: _replace kills it
        job = slot.job
        slot.job = None
        if job is not None:
            self._queue.fail(
                job.job_id,
                WORKER_DIED,
                f"The worker process running this job stopped unexpectedly (exit code {code}). "
                "The job may need more memory than this machine has: try fewer qubits, shots "
                "or pubs, or submit it again.",
            )
        elif not slot.ready:
            # Died before it was ready: back off, so a broken installation does not spin.
            self._restart_delay = min(max(self._restart_delay * 2, 1.0), _MAX_RESTART_DELAY)
            self._restart_at = time.monotonic() + self._restart_delay
            log.error(
                "Worker %s exited during start-up (exit code %s); retrying in %.0f s",
                slot.name,
                code,
                self._restart_delay,
            )
        self._replace(self._slots.index(slot) if index is None else index)

    def _replace(self, index: int) -> None:
        self._slots[index].kill()
        try:
            self._slots[index] = self._spawn(delay_until=self._restart_at)
        except OSError:
            # E.g. out of processes or file descriptors: the dead slot stays, and
            # _replace_dead tries again after a pause.
            self._restart_delay = min(max(self._restart_delay * 2, 1.0), _MAX_RESTART_DELAY)
            self._restart_at = time.monotonic() + self._restart_delay
            raise

    def _next_deadline(self) -> float:
        deadlines = [slot.deadline for slot in self._slots if slot.deadline is not None]
        return min(deadlines, default=time.monotonic() + 1.0)

    def _spawn(self, delay_until: float = 0.0) -> WorkerSlot:
        wait = delay_until - time.monotonic()
        if wait > 0:
            self._stopping.wait(wait)
        self._serial += 1
        name = f"worker-{self._serial}"
        parent_sock, child_sock = socket.socketpair()
        env = dict(os.environ)
        env["PYTHONPATH"] = os.pathsep.join(
            p for p in (_PACKAGE_ROOT, env.get("PYTHONPATH", "")) if p
        )
        env.setdefault("OMP_NUM_THREADS", str(self._threads))
        try:
            process = subprocess.Popen(
                [sys.executable, "-m", "jupyter_qrt.local.worker", str(child_sock.fileno())],
                pass_fds=(child_sock.fileno(),),
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
                env=env,
            )
        finally:
            child_sock.close()
        # The init message holds the device catalog (large): send it from a helper thread so
        # that the dispatcher never waits for a worker that is still starting.
        threading.Thread(
            target=_send_quietly, args=(parent_sock, self._init), name=f"{name}-init", daemon=True
        ).start()
        return WorkerSlot(name=name, process=process, sock=parent_sock)


def _send_quietly(sock: socket.socket, encoded: bytes) -> None:
    # If the worker died at once, the dispatcher notices and replaces it.
    with contextlib.suppress(OSError):
        send_encoded(sock, encoded)
