"""Writing how runs ended, and keeping what the database refused until it accepts it.

The scheduler writes a run's outcome (completed, failed, stopped) before it frees the worker's
slot. If the database refuses the write (locked past its busy timeout, disk full, ...), the
outcome is kept here and written again about once a second: the job stays Running meanwhile,
instead of forever (or until a restart runs it a second time).

:func:`reported_outcome` and :func:`worker_died_outcome` say how to record how a run ended.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial

from jupyter_qrt.local.job_reasons import WORKER_DIED
from jupyter_qrt.local.jobs.queue import JobQueue

from .protocol import JobDone, JobFailed

__all__ = ["RETRY_SECONDS", "OutcomeWriter", "reported_outcome", "worker_died_outcome"]

log = logging.getLogger(__name__)

#: Seconds between attempts to write the outcomes the database refused.
RETRY_SECONDS = 1.0


def recording(queue: JobQueue, message: JobDone | JobFailed) -> tuple[str, Callable[[], object]]:
    """What a worker's message says happened, and the write that records it in ``queue``."""
    if isinstance(message, JobDone):
        return "completed", partial(
            queue.complete,
            message.job_id,
            message.result_zlib,
            quantum_seconds=message.quantum_seconds,
            metrics=message.metrics,
            qiskit_version=message.qiskit_version,
            logs=message.logs,
        )
    return "failed", partial(
        queue.fail, message.job_id, message.reason_code, message.reason, message.logs
    )


@dataclass
class _Outcome:
    job_id: str
    what: str
    write: Callable[[], object]
    attempts: int = 0


class OutcomeWriter:
    """Writes outcomes of runs; keeps the refused ones for :meth:`retry`.

    Used by one thread (the scheduler's dispatcher).
    """

    def __init__(self) -> None:
        self._pending: list[_Outcome] = []
        self._retry_at = 0.0

    @property
    def next_retry(self) -> float | None:
        """``time.monotonic()`` of the next attempt, or None when nothing waits."""
        return self._retry_at if self._pending else None

    def write(self, job_id: str, what: str, write: Callable[[], object]) -> None:
        """Call ``write`` (a database write); if it raises, keep it for :meth:`retry`.

        ``what`` completes "job <id> ..." in the log, e.g. "completed".
        """
        self._attempt(_Outcome(job_id, what, write))

    def retry(self, *, last_chance: bool = False) -> None:
        """Write the kept outcomes again, if their time has come (always with ``last_chance``).

        With ``last_chance`` (the service is stopping), what still fails is logged as an error:
        those jobs stay Running and are queued again at the next start.
        """
        if not self._pending or (not last_chance and time.monotonic() < self._retry_at):
            return
        pending, self._pending = self._pending, []
        for outcome in pending:
            self._attempt(outcome)
        if last_chance:
            for outcome in self._pending:
                log.error(
                    "Could not record that job %s %s; it stays Running and is queued again at "
                    "the next start",
                    outcome.job_id,
                    outcome.what,
                )

    def _attempt(self, outcome: _Outcome) -> None:
        outcome.attempts += 1
        try:
            outcome.write()
        except Exception:
            if outcome.attempts == 1:
                log.warning(
                    "Could not record that job %s %s; trying again every %.0f s",
                    outcome.job_id,
                    outcome.what,
                    RETRY_SECONDS,
                    exc_info=True,
                )
            self._pending.append(outcome)
            self._retry_at = time.monotonic() + RETRY_SECONDS
            return
        if outcome.attempts > 1:
            log.info(
                "Recorded that job %s %s (attempt %d)",
                outcome.job_id,
                outcome.what,
                outcome.attempts,
            )


def reported_outcome(queue: JobQueue, message: object) -> tuple[str, Callable[[], object]] | None:
    """``(what, write)`` recording what a worker reported; None if ``message`` is no outcome."""
    if isinstance(message, JobDone):
        write = partial(
            queue.complete,
            message.job_id,
            message.result_zlib,
            quantum_seconds=message.quantum_seconds,
            metrics=message.metrics,
            qiskit_version=message.qiskit_version,
            logs=message.logs,
        )
        return "completed", write
    if isinstance(message, JobFailed):
        failed = partial(
            queue.fail, message.job_id, message.reason_code, message.reason, message.logs
        )
        return "failed", failed
    return None


def worker_died_outcome(
    queue: JobQueue, job_id: str, exit_code: int | None
) -> tuple[str, Callable[[], object]]:
    """``(what, write)`` failing a job whose worker stopped while it ran."""
    reason = (
        f"The worker process running this job stopped unexpectedly (exit code {exit_code}). "
        "The job may need more memory than this machine has, or than a job may use "
        "(jupyter-qrt serve --worker-memory-mb): try fewer qubits, shots or pubs, or submit it "
        "again."
    )
    return "failed (its worker died)", partial(queue.fail, job_id, WORKER_DIED, reason)
