"""The queue side of jobs: which job runs next, and how a run ends in the database.

The database is the queue: a job is Queued until the scheduler claims it (Queued -> Running in
one transaction), and a run ends in one transaction that writes the status, the result, the
usage and the session's bookkeeping together, so that a crash never leaves half of it.

Which job runs next
-------------------
Each device has its own queue: jobs of dedicated sessions first, then submission order (FIFO).
The workers are shared by every device, and a free worker takes the head job of one device:

1. Only devices whose head is a dedicated-session job are considered, if there are any (a
   dedicated session's jobs go before plain jobs on every device, not just on their own).
2. Among those devices, round-robin in name order, starting after the device served last.

So a job's ``queue_position`` (1 = next on its device) and a device's ``length_queue`` tell the
truth: a job at position 1 waits for at most one claim per other busy device, never for every
job queued elsewhere, and the least busy device is really the quickest.

Jobs held back by a usage limit
-------------------------------
A job whose instance has used up its usage limit stays Queued, but it is *held*: it is never
claimed, it has no ``queue_position``, it counts in no other job's position nor in a device's
``length_queue``, and its ``state.reason`` says that the instance reached its usage limit and
what to do. The service logs one line per instance when its jobs become held. They run again
once the limit is raised or the usage is reset.

Usage charged
-------------
A completed job is charged its quantum seconds; a job stopped at its max execution time (reason
code 1305) is charged its ``cost``, the time it was allowed; a job failed by validation (reason
codes 1517 and 1503: it cannot run as submitted) is charged nothing; other failed
and cancelled runs are charged the time they ran. See :mod:`.job_reasons`.
"""

from __future__ import annotations

import json
import logging
import sqlite3
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass
from typing import Any

from jupyter_qrt.local.job_reasons import NOT_CHARGED, RAN_TOO_LONG, SERVICE_RESTARTED
from jupyter_qrt.local.store.database import Store
from jupyter_qrt.local.store.usage import CLAIMABLE

from .bookkeeping import append_log, end_job
from .sessions import SessionRegistry

__all__ = [
    "MAX_ATTEMPTS",
    "REQUEUED_AFTER_STOP",
    "ClaimedJob",
    "JobQueue",
]

log = logging.getLogger(__name__)

#: A job whose run was interrupted by a service stop this many times is failed, not re-queued:
#: it may be what brings the service down.
MAX_ATTEMPTS = 3

#: The log line (and reason) of a Running job put back in the queue because the service stopped.
REQUEUED_AFTER_STOP = "The service stopped while this job was running; it was queued again."

# The head of each device's queue: its first claimable job in (priority, seq) order.
_HEADS_SQL = f"""
SELECT * FROM (
    SELECT j.*, ROW_NUMBER() OVER (PARTITION BY j.backend ORDER BY j.priority, j.seq) AS place
    FROM jobs j JOIN instances i ON i.crn = j.instance_crn
    WHERE j.status = 'Queued' AND {CLAIMABLE}
) WHERE place = 1
"""


@dataclass(frozen=True)
class ClaimedJob:
    """A job the scheduler has moved to Running and hands to a worker."""

    job_id: str
    program_id: str
    backend: str
    cost: int
    log_level: str | None


class JobQueue:
    """Claims jobs for workers and records how their runs end.

    Parameters
    ----------
    store
        The open store.
    sessions
        Keeps sessions in step with their jobs.
    clock
        Returns the current POSIX time.
    """

    def __init__(self, store: Store, sessions: SessionRegistry, clock: Callable[[], float]) -> None:
        self._store = store
        self._sessions = sessions
        self._clock = clock
        self._last_backend: str | None = None
        self._held_instances: set[str] = set()

    def limit_busy_wait(self, milliseconds: int) -> None:
        """Make the calling thread's writes wait at most this long for a database lock."""
        self._store.limit_busy_wait(milliseconds)

    def claim_next(self, worker_name: str, busy: Collection[str] = ()) -> ClaimedJob | None:
        """Move the next runnable job to Running and return it (None when nothing is queued).

        The job is the head of one device's queue, chosen as the module docstring says, on a
        device not in ``busy`` (devices that run one job at a time and have one running).
        """
        with self._store.transaction() as conn:
            heads = conn.execute(_HEADS_SQL).fetchall()
            row = self._next_head([h for h in heads if h["backend"] not in busy])
            if row is None:
                return None
            now = self._clock()
            conn.execute(
                "UPDATE jobs SET status = 'Running', running = ?, attempts = attempts + 1 "
                "WHERE id = ?",
                (now, row["id"]),
            )
            append_log(conn, row["id"], now, f"Running on {row['backend']} ({worker_name}).")
            if row["session_id"] is not None:
                self._sessions.job_started(conn, row["session_id"], now)
        self._last_backend = str(row["backend"])
        return ClaimedJob(
            job_id=row["id"],
            program_id=row["program_id"],
            backend=row["backend"],
            cost=int(row["cost"]),
            log_level=row["log_level"],
        )

    def _next_head(self, heads: list[sqlite3.Row]) -> sqlite3.Row | None:
        if not heads:
            return None
        first = min(int(head["priority"]) for head in heads)
        candidates = sorted(
            (head for head in heads if int(head["priority"]) == first),
            key=lambda head: str(head["backend"]),
        )
        last = self._last_backend
        if last is not None:
            for head in candidates:
                if str(head["backend"]) > last:
                    return head
        return candidates[0]

    def note_held(self) -> None:
        """Log once per instance when its Queued jobs become held back by its usage limit."""
        with self._store.reading() as conn:
            rows = conn.execute(
                "SELECT i.crn, i.name, i.usage_limit_seconds, COUNT(*) AS held "
                "FROM jobs j JOIN instances i ON i.crn = j.instance_crn "
                f"WHERE j.status = 'Queued' AND NOT {CLAIMABLE} GROUP BY i.crn"
            ).fetchall()
        held = {str(row["crn"]) for row in rows}
        for row in rows:
            if row["crn"] not in self._held_instances:
                log.warning(
                    "%d queued job(s) of the instance %r are held: it reached its usage limit of "
                    "%g s. Raise the limit (jupyter-qrt instances set-limit) or reset the usage "
                    "(jupyter-qrt instances reset-usage) to run them.",
                    row["held"],
                    row["name"],
                    float(row["usage_limit_seconds"]),
                )
        self._held_instances = held

    def complete(
        self,
        job_id: str,
        result_zlib: bytes,
        *,
        quantum_seconds: float,
        metrics: Mapping[str, Any] | None = None,
        qiskit_version: str | None = None,
        logs: str = "",
    ) -> bool:
        """Record a finished run: Completed, with its result and usage, atomically.

        ``result_zlib`` is the RuntimeEncoder JSON text (UTF-8) compressed with zlib; the worker
        compresses it, so that the dispatcher only stores it. Returns False when the job is no
        longer Running (cancelled or deleted meanwhile): the result is then dropped.
        """
        with self._store.transaction() as conn:
            row = self._running_row(conn, job_id)
            if row is None:
                return False
            now = self._clock()
            conn.execute(
                "UPDATE jobs SET quantum_seconds = ?, metrics = ?, qiskit_version = ? WHERE id = ?",
                (quantum_seconds, json.dumps(dict(metrics or {})), qiskit_version, job_id),
            )
            conn.execute(
                "INSERT OR REPLACE INTO results(job_id, data) VALUES (?, ?)", (job_id, result_zlib)
            )
            end_job(
                conn,
                self._sessions,
                row,
                now,
                status="Completed",
                reason=None,
                code=None,
                used=quantum_seconds,
                note=f"Completed ({quantum_seconds:.3f} quantum seconds).",
                logs=logs,
            )
        return True

    def fail(self, job_id: str, reason_code: int, reason: str, logs: str = "") -> bool:
        """Record a failed run (Failed, with a reason people understand).

        A job failed by validation (a code of :data:`.job_reasons.NOT_CHARGED`) is charged
        nothing; any other failed run is charged the time it ran.
        """
        charged = 0.0 if reason_code in NOT_CHARGED else None
        return self._end(job_id, "Failed", reason_code, reason, logs, charged)

    def stop_too_long(self, job_id: str, cost: int) -> bool:
        """Record a run stopped at its max execution time: Cancelled with reason code 1305.

        The job is charged its ``cost`` (the time it was allowed), not the few moments more it
        took to notice and stop it.
        """
        reason = (
            f"Ran too long: the job ran past its maximum execution time of {cost} s and was "
            "stopped. Raise max_execution_time (at most 10800 s) or split the work into "
            "smaller jobs."
        )
        return self._end(job_id, "Cancelled", RAN_TOO_LONG, reason, "", float(cost))

    def requeue(self, job_ids: list[str], why: str) -> None:
        """Put Running jobs back in the queue (the service is stopping; the run does not count)."""
        now = self._clock()
        with self._store.transaction() as conn:
            for job_id in job_ids:
                cursor = conn.execute(
                    "UPDATE jobs SET status = 'Queued', running = NULL, "
                    "attempts = MAX(attempts - 1, 0) WHERE id = ? AND status = 'Running'",
                    (job_id,),
                )
                if cursor.rowcount:
                    append_log(conn, job_id, now, why)

    def recover(self) -> tuple[int, int]:
        """After a start: re-queue jobs left Running by a stop, or fail those retried too often.

        Returns
        -------
        (requeued, failed)
        """
        now = self._clock()
        requeued = failed = 0
        with self._store.transaction() as conn:
            rows = conn.execute("SELECT * FROM jobs WHERE status = 'Running'").fetchall()
            for row in rows:
                if int(row["attempts"]) < MAX_ATTEMPTS:
                    conn.execute(
                        "UPDATE jobs SET status = 'Queued', running = NULL WHERE id = ?",
                        (row["id"],),
                    )
                    append_log(conn, row["id"], now, REQUEUED_AFTER_STOP)
                    requeued += 1
                    continue
                reason = (
                    f"The local runtime service stopped {MAX_ATTEMPTS} times while this job was "
                    "running, so it was not run again. Submit it again; if this repeats, try a "
                    "smaller job (fewer qubits or shots)."
                )
                end_job(
                    conn,
                    self._sessions,
                    row,
                    now,
                    status="Failed",
                    reason=reason,
                    code=SERVICE_RESTARTED,
                    used=0.0,
                    note=reason,
                )
                failed += 1
        return requeued, failed

    # ------------------------------------------------------------------ helpers
    def _end(
        self,
        job_id: str,
        status: str,
        code: int,
        reason: str,
        logs: str,
        charged: float | None = None,
    ) -> bool:
        """End a Running job; it is charged ``charged`` seconds, or the time it ran if None."""
        with self._store.transaction() as conn:
            row = self._running_row(conn, job_id)
            if row is None:
                return False
            now = self._clock()
            used = max(now - float(row["running"]), 0.0) if charged is None else charged
            end_job(
                conn,
                self._sessions,
                row,
                now,
                status=status,
                reason=reason,
                code=code,
                used=used,
                note=f"{status} (reason code {code}): {reason}",
                logs=logs,
            )
        return True

    def _running_row(self, conn: sqlite3.Connection, job_id: str) -> sqlite3.Row | None:
        row: sqlite3.Row | None = conn.execute(
            "SELECT * FROM jobs WHERE id = ? AND status = 'Running'", (job_id,)
        ).fetchone()
        return row
