"""The bookkeeping every way a job moves shares: its log, its place in the queue, its end.

One :func:`end_job` for every way a job ends (completed, failed, cancelled, too long), so the
status, the usage charged, the log lines, a private job's params and the session's bookkeeping
always change together, in the caller's transaction.
"""

from __future__ import annotations

import re
import sqlite3

from jupyter_qrt.local.store.timestamps import iso_z
from jupyter_qrt.local.store.usage import CLAIMABLE, limit_reached

from .sessions import SessionRegistry

__all__ = [
    "append_log",
    "charge_usage",
    "end_job",
    "queue_lengths",
    "queue_position",
    "usage_hold",
]

# A log block that starts with a timestamp of its own (as the lines of a run's report do).
_STAMPED = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d+)?(?:Z|[+-]\d{2}:\d{2}) ")


def append_log(conn: sqlite3.Connection, job_id: str, now: float, text: str) -> None:
    """Append a timestamped line (or block) to the job's logs.

    A block whose first line carries a timestamp already (a run's own log lines) is appended
    as it is, not stamped a second time.
    """
    text = text.rstrip()
    line = text if _STAMPED.match(text) else f"{iso_z(now)} {text}"
    conn.execute("UPDATE jobs SET logs = logs || ? WHERE id = ?", (f"{line}\n", job_id))


def charge_usage(conn: sqlite3.Connection, crn: str, seconds: float) -> None:
    """Add used seconds to the instance's consumed usage."""
    if seconds > 0:
        conn.execute(
            "UPDATE instances SET usage_consumed_seconds = usage_consumed_seconds + ? "
            "WHERE crn = ?",
            (seconds, crn),
        )


def usage_hold(conn: sqlite3.Connection, crn: str) -> str | None:
    """Why the instance's Queued jobs are held back, or None when they may run."""
    reached = limit_reached(conn, crn)
    if reached is None:
        return None
    name, limit = reached
    return (
        f"Held: the instance {name!r} has reached its usage limit of {limit:g} s, so "
        "this job waits and is not counted in the queue. It runs once the instance's "
        "administrator raises the limit (jupyter-qrt instances set-limit) or resets its usage "
        "(jupyter-qrt instances reset-usage); or cancel it."
    )


def queue_position(conn: sqlite3.Connection, row: sqlite3.Row, held: bool) -> int | None:
    """1 for the next job to run on its device; None unless the job is Queued and not held.

    ``held``: whether the job's instance has reached its usage limit (see :func:`usage_hold`),
    which the caller knows already.
    """
    if row["status"] != "Queued" or held:
        return None
    ahead = conn.execute(
        "SELECT COUNT(*) FROM jobs j JOIN instances i ON i.crn = j.instance_crn "
        f"WHERE j.status = 'Queued' AND j.backend = ? AND {CLAIMABLE} "
        "AND (j.priority < ? OR (j.priority = ? AND j.seq < ?))",
        (row["backend"], row["priority"], row["priority"], row["seq"]),
    ).fetchone()[0]
    return int(ahead) + 1


def queue_lengths(conn: sqlite3.Connection) -> dict[str, int]:
    """Queued jobs per backend name, leaving out jobs held back by a usage limit."""
    rows = conn.execute(
        "SELECT j.backend, COUNT(*) FROM jobs j JOIN instances i ON i.crn = j.instance_crn "
        f"WHERE j.status = 'Queued' AND {CLAIMABLE} GROUP BY j.backend"
    ).fetchall()
    return {str(row[0]): int(row[1]) for row in rows}


def end_job(
    conn: sqlite3.Connection,
    sessions: SessionRegistry,
    row: sqlite3.Row,
    now: float,
    *,
    status: str,
    reason: str | None,
    code: int | None,
    used: float,
    note: str,
    logs: str = "",
) -> None:
    """End a Queued or Running job in ``conn``'s transaction.

    Sets its final ``status``, ``reason``, reason ``code``, end time and ``used`` seconds;
    appends the run's ``logs`` (if any) and then ``note`` to its logs; charges ``used`` seconds
    to its instance; deletes the params of a private job (never returned, no longer needed);
    and tells its session (if any) that the job ended.
    """
    conn.execute(
        "UPDATE jobs SET status = ?, reason = ?, reason_code = ?, finished = ?, "
        "usage_seconds = ? WHERE id = ?",
        (status, reason, code, now, used, row["id"]),
    )
    if logs:
        append_log(conn, row["id"], now, logs)
    append_log(conn, row["id"], now, note)
    charge_usage(conn, row["instance_crn"], used)
    if row["private"]:  # never returned, and no longer needed to run it
        conn.execute("DELETE FROM job_params WHERE job_id = ?", (row["id"],))
    if row["session_id"] is not None:
        sessions.job_ended(conn, row["session_id"], now)
