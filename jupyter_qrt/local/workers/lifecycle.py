"""The lifecycle of the scheduler's worker processes: start, ready deadline, death, replacement.

Mixed into :class:`~.scheduler.Scheduler` and run by its dispatcher thread only. A worker that
dies or misses its start-up deadline is replaced; starts that keep failing back off (doubling up
to 30 s) so a broken installation does not spin; killed workers are waited for by the reaper
thread, never by the dispatcher.
"""

from __future__ import annotations

import contextlib
import logging
import math
import selectors
import time
from typing import TYPE_CHECKING

from .outcomes import OutcomeWriter, worker_died_outcome
from .pacing import Pacing
from .slot import Reaper, WorkerSlot, spawn_worker

if TYPE_CHECKING:
    from jupyter_qrt.local.jobs.queue import JobQueue

__all__ = ["WorkerLifecycle"]

log = logging.getLogger(__name__)

_MAX_RESTART_DELAY = 30.0


class WorkerLifecycle:
    """Starting, watching and replacing worker processes (see the module docstring)."""

    _slots: list[WorkerSlot]
    _selector: selectors.BaseSelector
    _reaper: Reaper | None
    _restart_delay: float
    _restart_at: float
    _serial: int
    _init: bytes
    _threads: int
    _start_timeout: float
    _outcomes: OutcomeWriter
    _queue: JobQueue
    _pacing: Pacing

    def _record(self, slot: WorkerSlot, message: object) -> bool:
        raise NotImplementedError

    def _stop_slow_starters(self) -> None:
        now = time.monotonic()
        for index, slot in enumerate(self._slots):
            if slot.restart_at is None and slot.ready_by is not None and now >= slot.ready_by:
                self._back_off()  # in case every start hangs (a new one may well start fine)
                log.error(
                    "Worker %s was not ready %.0f s after its start; starting another in %.0f s "
                    "(raise $QRT_WORKER_START_SECONDS if qiskit imports slowly on this machine)",
                    slot.name,
                    self._start_timeout,
                    self._restart_delay,
                )
                self._replace(index)

    def _replace_dead(self) -> None:
        for index, slot in enumerate(self._slots):
            if slot.restart_at is None and slot.process.poll() is not None:
                self._worker_died(slot, index)

    def _worker_died(self, slot: WorkerSlot, index: int | None = None) -> None:
        # Never waits: a process that closed its socket but lingers is killed by _replace.
        code = slot.process.poll()
        for held_slot, result in self._pacing.released([slot], math.inf):
            self._record(held_slot, result)  # a held result is in hand: record, never lose it
        job = slot.job
        if job is not None:
            self._outcomes.write(job.job_id, *worker_died_outcome(self._queue, job.job_id, code))
            slot.job = None
            slot.deadline = None
        elif not slot.ready:
            # Died before it was ready: back off, so a broken installation does not spin.
            self._back_off()
            log.error(
                "Worker %s exited during start-up (exit code %s); retrying in %.0f s",
                slot.name,
                code,
                self._restart_delay,
            )
        self._replace(self._slots.index(slot) if index is None else index)

    def _replace(self, index: int) -> None:
        """Kill the slot's worker and start a new one, or schedule that after the back-off."""
        slot = self._slots[index]
        self._kill(slot, wait=False)
        slot.ready = False
        slot.ready_by = None
        if self._restart_at > time.monotonic():
            slot.restart_at = self._restart_at
            return
        self._start_worker(index)

    def _restart_due(self) -> None:
        now = time.monotonic()
        for index, slot in enumerate(self._slots):
            if slot.restart_at is not None and now >= slot.restart_at:
                self._start_worker(index)

    def _start_worker(self, index: int) -> None:
        try:
            self._slots[index] = self._spawn()
        except OSError as exc:
            # E.g. out of processes or file descriptors: try again after a pause.
            self._back_off()
            self._slots[index].restart_at = self._restart_at
            log.error(
                "Could not start a worker process (%s); retrying in %.0f s",
                exc,
                self._restart_delay,
            )

    def _back_off(self) -> None:
        self._restart_delay = min(max(self._restart_delay * 2, 1.0), _MAX_RESTART_DELAY)
        self._restart_at = time.monotonic() + self._restart_delay

    def _spawn(self) -> WorkerSlot:
        self._serial += 1
        slot = spawn_worker(f"worker-{self._serial}", self._init, self._threads)
        slot.ready_by = time.monotonic() + self._start_timeout
        try:
            self._selector.register(slot.sock, selectors.EVENT_READ, slot)
        except BaseException:
            slot.kill()
            raise
        return slot

    def _kill(self, slot: WorkerSlot, *, wait: bool = True) -> None:
        """Kill the slot's worker; its socket leaves the selector before it is closed.

        Without ``wait`` (the dispatcher), the reaper thread waits for the process to exit.
        """
        # Not registered: the slot was killed before (it waits for its restart).
        with contextlib.suppress(KeyError, ValueError):
            self._selector.unregister(slot.sock)
        if wait or self._reaper is None:
            slot.kill()
        else:
            slot.kill_later(self._reaper)
