"""The scheduler of the local runtime service: worker processes and the thread that feeds them.

One thread (the dispatcher) owns the worker processes. It hands the next queued job (see
:meth:`.JobQueue.claim_next`) to each ready, idle worker, receives the outcome and records it,
and stops runs: a cancelled job's worker, or one past its ``cost`` deadline, is killed and
replaced by a fresh process, so a stop takes effect at once whatever the simulator is doing.

The dispatcher never sleeps on anything but its wait for messages, so cancellations, deadlines
and results are handled within moments whatever else goes on:

- A worker that dies before it is ready (a broken installation), or is not ready by its
  start-up deadline (see :mod:`.config`), is killed and restarted after a back-off that
  doubles up to 30 s; the slot waits with a ``restart_at`` time meanwhile.
- Nothing a worker does can hold the dispatcher: it reads only the bytes that have arrived
  (a message is assembled over as many reads as it takes), and killed workers are waited for
  by a reaper thread (see :mod:`.worker_slot`).
- Nor can another process that holds the database's write lock: the dispatcher's writes wait
  at most a quarter second for it, then the claim or tick is tried again a second later (and an
  outcome kept, as below).
- An outcome is written to the database before its worker's slot is cleared. If the write fails
  (e.g. the database is locked or the disk is full), the outcome is kept and written again about
  once a second (see :mod:`.run_outcomes`), so that a finished job never stays Running until
  the next restart.

Pacing (:mod:`.pacing`): a paced job's result waits in its slot until its device time has passed;
a paced device runs one job at a time.

Workers are fresh interpreters, never forks (see :mod:`.slot`); their simulator threads and
limits are set as :mod:`.config` says.

The wait uses :mod:`selectors` (epoll on Linux), not ``select.select``: inside a Jupyter server
the process easily holds more than 1024 file descriptors, which ``select`` cannot watch. One
selector serves the scheduler's whole life: a worker's socket is registered when the worker is
started and unregistered before the socket is closed (a closed socket left registered would
block a new one that gets the same descriptor number).
"""

from __future__ import annotations

import contextlib
import logging
import selectors
import socket
import sqlite3
import sys
import threading
import time
from collections.abc import Callable
from functools import partial

from jupyter_qrt.local.jobs.queue import JobQueue

from .config import start_seconds, usable_cpus
from .lifecycle import WorkerLifecycle
from .outcomes import OutcomeWriter, reported_outcome
from .pacing import Pacing
from .protocol import (
    JobDone,
    JobFailed,
    RunJob,
    WorkerInit,
    WorkerReady,
    encode_message,
    send_message,
)
from .slot import Reaper, WorkerSlot

__all__ = ["Scheduler", "WorkerSlot"]

log = logging.getLogger(__name__)

_DB_WAIT_MS = 250
_JOIN_SECONDS = 10.0


class Scheduler(WorkerLifecycle):
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
        Simulator threads of each worker; default: usable cores // workers (at least 1). An
        ``OMP_NUM_THREADS`` in the environment wins over both.
    start_timeout
        Seconds a worker may take to get ready before it is killed and replaced; default
        ``$QRT_WORKER_START_SECONDS``, else 120 (see :mod:`.config`).
    pacing
        Which devices hold each job for its device time (see :mod:`.pacing`); default none.

    Raises
    ------
    ValueError
        ``workers`` is below 1, or the start-up deadline is not a positive number.
    """

    def __init__(
        self,
        queue: JobQueue,
        init: WorkerInit,
        workers: int,
        tick: Callable[[], None] = lambda: None,
        threads_per_worker: int | None = None,
        start_timeout: float | None = None,
        pacing: Pacing | None = None,
    ) -> None:
        if workers < 1:
            raise ValueError(f"workers must be >= 1, got {workers}")
        self._start_timeout = start_seconds(start_timeout)
        self._pacing = pacing or Pacing()
        self._threads = threads_per_worker or max(1, usable_cpus() // workers)
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
        self._selector = selectors.DefaultSelector()
        self._selector.register(self._wake_r, selectors.EVENT_READ)
        self._restart_delay = 0.0
        self._restart_at = 0.0
        self._outcomes = OutcomeWriter()
        self._serial = 0
        self._reaper: Reaper | None = None
        self._database_busy = False

    # ------------------------------------------------------------- public API
    def start(self) -> None:
        """Start the worker processes and the dispatcher thread.

        If any of them cannot be started, the workers started so far are killed and the error
        is raised; the scheduler cannot be started again then.
        """
        if self._thread is not None:
            return
        if not sys.executable:
            raise RuntimeError(
                "Cannot start worker processes: this Python does not know its own executable "
                "(sys.executable is empty)."
            )
        self._reaper = Reaper()
        try:
            for _ in range(self._size):
                self._slots.append(self._spawn())
            self._thread = threading.Thread(target=self._run, name="qrt-scheduler", daemon=True)
            self._thread.start()
        except BaseException:
            self._thread = None
            self._close()
            raise

    def stop(self) -> list[str]:
        """Stop the dispatcher and kill every worker; return the ids of the jobs they ran."""
        self._stopping.set()
        self.wake()
        if self._thread is not None:
            self._thread.join(_JOIN_SECONDS)
            if self._thread.is_alive():  # pragma: no cover - the loop never blocks that long
                log.warning("The scheduler thread did not stop within %s s", _JOIN_SECONDS)
        interrupted = [slot.job.job_id for slot in self._slots if slot.job is not None]
        self._close()
        self._outcomes.retry(last_chance=True)
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

    def worker_pids(self) -> list[int]:
        """Process ids of the current workers (not of slots waiting to restart one)."""
        return [slot.process.pid for slot in list(self._slots) if slot.restart_at is None]

    # ---------------------------------------------------------- the dispatcher
    def _run(self) -> None:
        self._queue.limit_busy_wait(_DB_WAIT_MS)
        next_tick = 0.0
        while not self._stopping.is_set():
            try:
                self._outcomes.retry()
                self._stop_cancelled()
                self._stop_overdue()
                self._stop_slow_starters()
                self._release_held()
                self._replace_dead()
                self._restart_due()
                self._unless_database_busy(self._dispatch)
                now = time.monotonic()
                if now >= next_tick:
                    next_tick = now + 1.0
                    self._unless_database_busy(self._tick)
                self._wait(min(next_tick, self._next_wake()) - time.monotonic())
            except Exception:
                # The loop must outlive any one failure (a locked database, a bad message).
                log.exception("The job scheduler hit an error; it carries on")
                self._stopping.wait(0.5)

    def _unless_database_busy(self, step: Callable[[], None]) -> None:
        """Run ``step``; if the database refuses its write, carry on (it runs again soon)."""
        try:
            step()
        except sqlite3.OperationalError as exc:
            # Logged once per spell: it lasts as long as another process holds the lock.
            if not self._database_busy:
                log.warning("The database refused a write (%s); the scheduler retries", exc)
            self._database_busy = True
            return
        self._database_busy = False

    def _wait(self, timeout: float) -> None:
        # Registered: the wake-up socket and the socket of every live worker (a slot waiting for
        # its restart holds a closed socket, unregistered when it was killed).
        events = self._selector.select(max(timeout, 0.0))
        for key, _ in events:
            if key.fileobj is self._wake_r:
                with contextlib.suppress(OSError):
                    while self._wake_r.recv(4096):
                        pass
                continue
            slot = key.data
            # An earlier message may have replaced this slot (its worker died meanwhile).
            if self._is_current(slot):
                self._receive(slot)

    def _receive(self, slot: WorkerSlot) -> None:
        messages, still_open = slot.read_available()
        # A worker's last words (e.g. the failure of a job that ran it out of memory) count,
        # even when its exit arrives in the same read.
        for message in messages:
            if not self._is_current(slot):
                return  # replaced by an earlier message (its worker exits)
            self._handle(slot, message)
        if not still_open and self._is_current(slot):
            self._worker_died(slot)

    def _is_current(self, slot: WorkerSlot) -> bool:
        return any(current is slot for current in self._slots)

    def _handle(self, slot: WorkerSlot, message: object) -> None:
        if isinstance(message, WorkerReady):
            slot.ready = True
            slot.ready_by = None
            # Workers start fine: no back-off for the next one (slots already waiting keep theirs).
            self._restart_delay = 0.0
            self._restart_at = 0.0
            log.debug("Worker %s ready (pid %d)", slot.name, message.pid)
            return
        job = slot.job
        if job is None or getattr(message, "job_id", None) != job.job_id:
            log.debug("Ignoring a message of %s about a run that was stopped", slot.name)
            return
        if not self._record(slot, message):
            return
        if isinstance(message, JobFailed) and message.worker_exits:
            # Replaced at once: no next job may be sent to a worker that is on its way out.
            log.info("Worker %s exits after job %s; starting another", slot.name, job.job_id)
            index = next(i for i, current in enumerate(self._slots) if current is slot)
            self._replace(index)

    def _record(self, slot: WorkerSlot, message: object) -> bool:
        """Write the outcome of the slot's job and free the slot; False when nothing was written
        (not an outcome, or a paced job's result held back until its device time has passed)."""
        job = slot.job
        if job is None:
            return False
        if isinstance(message, JobDone) and self._pacing.hold(slot, message, time.monotonic()):
            return False
        recording = reported_outcome(self._queue, message)
        if recording is None:
            return False
        self._outcomes.write(job.job_id, *recording)
        # Only now: a slot cleared before its outcome is written would lose the job.
        slot.job = None
        slot.deadline = None
        return True

    def _release_held(self) -> None:
        for slot, message in self._pacing.released(self._slots, time.monotonic()):
            self._record(slot, message)

    def _dispatch(self) -> None:
        for slot in self._slots:
            if not slot.ready or slot.job is not None:
                continue
            job = self._queue.claim_next(slot.name, self._pacing.busy(self._slots))
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
            slot.started = time.monotonic()
            slot.deadline = slot.started + job.cost

    def _stop_cancelled(self) -> None:
        with self._lock:
            requests, self._cancel_requests = self._cancel_requests, set()
        for index, slot in enumerate(self._slots):
            if slot.job is not None and slot.job.job_id in requests:
                # The job is Cancelled in the database already (by whoever cancelled it).
                log.info("Stopping job %s (cancelled) on %s", slot.job.job_id, slot.name)
                self._end_run(index)

    def _stop_overdue(self) -> None:
        now = time.monotonic()
        for index, slot in enumerate(self._slots):
            job = slot.job
            if job is not None and slot.deadline is not None and now >= slot.deadline:
                log.info("Stopping job %s: past its max execution time", job.job_id)
                write = partial(self._queue.stop_too_long, job.job_id, job.cost)
                self._outcomes.write(job.job_id, "ran past its max execution time", write)
                self._end_run(index)

    def _end_run(self, index: int) -> None:
        """Free the slot of a stopped run: its worker is replaced, unless it only held a result."""
        slot = self._slots[index]
        slot.job = None
        slot.deadline = None
        if slot.held is not None:
            slot.held = slot.hold_until = None  # the worker is idle: nothing to kill
            return
        self._replace(index)

    def _next_wake(self) -> float:
        times = [slot.deadline for slot in self._slots if slot.deadline is not None]
        times += [slot.restart_at for slot in self._slots if slot.restart_at is not None]
        times += [slot.ready_by for slot in self._slots if slot.ready_by is not None]
        times += [slot.hold_until for slot in self._slots if slot.hold_until is not None]
        retry = self._outcomes.next_retry
        if retry is not None:
            times.append(retry)
        return min(times, default=time.monotonic() + 1.0)

    def _close(self) -> None:
        """Kill every worker and close the selector and the wake-up sockets."""
        for slot in self._slots:
            self._kill(slot)
        self._slots.clear()
        if self._reaper is not None:
            self._reaper.close()
            self._reaper = None
        self._selector.close()
        self._wake_r.close()
        self._wake_w.close()
