"""Sessions and batches of the local runtime service.

A session groups jobs on one backend. ``dedicated`` sessions (``Session``) have their jobs run
before other queued jobs on the device; ``batch`` sessions (``Batch``) are plain FIFO.

States, as IBM names them:

- ``open``: accepting jobs, none has started yet;
- ``active``: accepting jobs and holding its device: a job runs or waits with the session's
  priority, or the last one ended less than ``interactive_ttl`` seconds ago;
- ``inactive``: accepting jobs, but none for ``interactive_ttl`` seconds: the session has let its
  device go, and its next job waits in the queue like any other (once it runs, the session is
  ``active`` again);
- ``pending_closed``: no longer accepting jobs, some still queued or running;
- ``closed``: done. Reached by ``close`` (which also cancels queued jobs), by the last job of a
  session that stopped accepting jobs, or when ``max_ttl`` has passed since the first job
  started (or since creation, if none has): queued jobs are then cancelled.

Every state change is appended to the session's ``timestamps`` list.
"""

from __future__ import annotations

import json
import secrets
import sqlite3
from collections.abc import Callable, Mapping
from typing import Any

from jupyter_qrt.local.service_error import bad_request, conflict, not_found
from jupyter_qrt.local.store.database import Store
from jupyter_qrt.local.store.timestamps import iso_z

from .request import shown_value
from .views import session_details

__all__ = [
    "DEFAULT_INTERACTIVE_TTL",
    "DEFAULT_MAX_TTL",
    "MAX_MAX_TTL",
    "SessionRegistry",
]

DEFAULT_MAX_TTL = 8 * 3600
MAX_MAX_TTL = 24 * 3600
DEFAULT_INTERACTIVE_TTL = 60
_MODES = ("dedicated", "batch")
_EXPIRED = "Cancelled because its session reached its maximum time to live (max_ttl)."


class SessionRegistry:
    """Create, read, update and close sessions; keep their state in step with their jobs.

    Parameters
    ----------
    store
        The open store.
    clock
        Returns the current POSIX time.
    backend_exists
        Raises the 404 ``ServiceError`` for an unknown backend name.
    cancel_queued
        Cancels, in the given transaction, the queued jobs of a session, with a reason.
    """

    def __init__(
        self,
        store: Store,
        clock: Callable[[], float],
        backend_exists: Callable[[str], None],
        cancel_queued: Callable[[sqlite3.Connection, str, str], None],
    ) -> None:
        self._store = store
        self._clock = clock
        self._backend_exists = backend_exists
        self._cancel_queued = cancel_queued

    def create(self, crn: str, user_id: str, body: object) -> dict[str, Any]:
        """``POST /sessions``: check the body, store the session, return its details."""
        if not isinstance(body, Mapping):
            raise bad_request("The session request body must be a JSON object.")
        mode = body.get("mode", "dedicated")
        if mode not in _MODES:
            raise bad_request(
                f"'mode' must be 'dedicated' (a Session) or 'batch'; got {shown_value(mode)}."
            )
        backend = body.get("backend")
        if not isinstance(backend, str) or not backend:
            raise bad_request("The session request needs a 'backend' (the device to run on).")
        self._backend_exists(backend)
        instance = body.get("instance")
        if instance is not None and instance != crn:
            raise bad_request(
                "'instance' names another instance than the Service-CRN of the request; "
                "leave it out or give the same CRN."
            )
        max_ttl = body.get("max_ttl")
        if max_ttl is None:
            max_ttl = DEFAULT_MAX_TTL
        if isinstance(max_ttl, bool) or not isinstance(max_ttl, int) or max_ttl < 1:
            raise bad_request(
                f"'max_ttl' must be a whole number of seconds >= 1; got {shown_value(max_ttl)}."
            )
        max_ttl = min(max_ttl, MAX_MAX_TTL)
        interactive = _checked_interactive_ttl(body.get("interactive_ttl"), mode, max_ttl)
        session_id = secrets.token_hex(10)
        now = self._clock()
        stamps = json.dumps([{"status": "open", "timestamp": iso_z(now)}])
        with self._store.transaction() as conn:
            conn.execute(
                "INSERT INTO sessions(id, instance_crn, user_id, backend, mode, state, max_ttl, "
                "interactive_ttl, created, timestamps) VALUES (?, ?, ?, ?, ?, 'open', ?, ?, ?, ?)",
                (session_id, crn, user_id, backend, mode, max_ttl, interactive, now, stamps),
            )
        return self.details(crn, session_id)

    def details(self, crn: str, session_id: str) -> dict[str, Any]:
        """``GET /sessions/{id}`` (404 for another instance's session)."""
        with self._store.transaction() as conn:
            self.refresh(conn, session_id)
            row = self._row(conn, crn, session_id)
        return session_details(row, self._clock())

    def update(self, crn: str, session_id: str, body: object) -> None:
        """``PATCH /sessions/{id}``: ``{"accepting_jobs": false}`` stops new jobs."""
        if not isinstance(body, Mapping) or not isinstance(body.get("accepting_jobs"), bool):
            raise bad_request(
                "The session update body must be a JSON object with 'accepting_jobs': true or "
                "false."
            )
        accepting = bool(body["accepting_jobs"])
        with self._store.transaction() as conn:
            row = self._row(conn, crn, session_id)
            if accepting and row["state"] == "closed":
                raise conflict(f"Session {session_id} is closed; open a new session instead.")
            conn.execute(
                "UPDATE sessions SET accepting_jobs = ? WHERE id = ?", (int(accepting), session_id)
            )
            self.refresh(conn, session_id)

    def close(self, crn: str, session_id: str) -> None:
        """``DELETE /sessions/{id}/close``: cancel queued jobs and close (running ones finish)."""
        with self._store.transaction() as conn:
            self._row(conn, crn, session_id)
            self._close(conn, session_id, "Cancelled because its session was closed.")

    def check_accepts_job(
        self, conn: sqlite3.Connection, crn: str, session_id: str, backend: str | None
    ) -> str:
        """Check that a job may join the session; return the session's backend."""
        self.refresh(conn, session_id)
        row = self._row(conn, crn, session_id)
        if row["state"] == "closed" or not row["accepting_jobs"]:
            raise conflict(
                f"Session {session_id} is closed or no longer accepts jobs. Run the job outside "
                "the session, or open a new session."
            )
        if backend is not None and backend != row["backend"]:
            raise bad_request(
                f"Session {session_id} runs on {row['backend']!r}, but the job asks for "
                f"{backend!r}. Send the job to {row['backend']!r} or open a session there."
            )
        return str(row["backend"])

    def is_dedicated(self, conn: sqlite3.Connection, session_id: str) -> bool:
        """Whether the session runs in session execution mode (``dedicated``), not a batch."""
        row = conn.execute("SELECT mode FROM sessions WHERE id = ?", (session_id,)).fetchone()
        return row is not None and row["mode"] == "dedicated"

    def jobs_go_first(self, conn: sqlite3.Connection, session_id: str) -> bool:
        """Whether a new job of the session goes before other queued jobs on its device.

        Those of a dedicated session do, unless the session is ``inactive`` (idle for its
        ``interactive_ttl``): then its next job waits like any other. Call after :meth:`refresh`.
        """
        row = conn.execute(
            "SELECT mode, state FROM sessions WHERE id = ?", (session_id,)
        ).fetchone()
        return row is not None and row["mode"] == "dedicated" and row["state"] != "inactive"

    def job_started(self, conn: sqlite3.Connection, session_id: str, now: float) -> None:
        """Note that a job of the session started running."""
        conn.execute(
            "UPDATE sessions SET last_job_started = ?, activated_at = COALESCE(activated_at, ?) "
            "WHERE id = ?",
            (now, now, session_id),
        )
        self.refresh(conn, session_id)

    def job_ended(self, conn: sqlite3.Connection, session_id: str, now: float) -> None:
        """Note that a job of the session ended (completed, failed or cancelled)."""
        conn.execute("UPDATE sessions SET last_job_completed = ? WHERE id = ?", (now, session_id))
        self.refresh(conn, session_id)

    def expire(self) -> None:
        """Close every session whose ``max_ttl`` has passed."""
        now = self._clock()
        with self._store.transaction() as conn:
            rows = conn.execute(
                "SELECT id FROM sessions WHERE state != 'closed' "
                "AND COALESCE(activated_at, created) + max_ttl <= ?",
                (now,),
            ).fetchall()
            for row in rows:
                self._close(conn, row["id"], _EXPIRED)

    def refresh(self, conn: sqlite3.Connection, session_id: str) -> None:
        """Recompute the session's state from its jobs; record a change."""
        row = conn.execute("SELECT * FROM sessions WHERE id = ?", (session_id,)).fetchone()
        if row is None or row["state"] == "closed":
            return
        now = self._clock()
        started = row["activated_at"] if row["activated_at"] is not None else row["created"]
        if float(started) + int(row["max_ttl"]) <= now:
            self._close(conn, session_id, _EXPIRED)
            return
        pending = conn.execute(
            "SELECT COUNT(*) FROM jobs WHERE session_id = ? AND status IN ('Queued', 'Running')",
            (session_id,),
        ).fetchone()[0]
        changed_at = now
        if not row["accepting_jobs"]:
            state = "pending_closed" if pending else "closed"
        elif row["activated_at"] is None:
            state = "open"
        elif self._holds_device(conn, row):
            state = "active"
        else:
            idle_since = max(
                float(value)
                for value in (
                    row["activated_at"],
                    row["last_job_started"],
                    row["last_job_completed"],
                )
                if value is not None
            )
            inactive_at = idle_since + int(row["interactive_ttl"])
            if now < inactive_at:
                state = "active"
            else:
                state = "inactive"
                # Seen lazily (on the next read or job): stamp when it happened.
                changed_at = inactive_at
        if state != row["state"]:
            closed_at = now if state == "closed" else None
            self._set_state(conn, row, state, changed_at, closed_at=closed_at)

    # ------------------------------------------------------------------ helpers
    def _holds_device(self, conn: sqlite3.Connection, row: sqlite3.Row) -> bool:
        """A job of the session runs, or waits with the session's priority (any, in a batch)."""
        waiting = "status = 'Queued'" + (" AND priority = 0" if row["mode"] == "dedicated" else "")
        found = conn.execute(
            f"SELECT 1 FROM jobs WHERE session_id = ? AND (status = 'Running' OR ({waiting})) "
            "LIMIT 1",
            (row["id"],),
        ).fetchone()
        return found is not None

    def _close(self, conn: sqlite3.Connection, session_id: str, reason: str) -> None:
        self._cancel_queued(conn, session_id, reason)
        row = conn.execute("SELECT * FROM sessions WHERE id = ?", (session_id,)).fetchone()
        if row is not None and row["state"] != "closed":
            now = self._clock()
            conn.execute("UPDATE sessions SET accepting_jobs = 0 WHERE id = ?", (session_id,))
            self._set_state(conn, row, "closed", now, closed_at=now)

    def _set_state(
        self,
        conn: sqlite3.Connection,
        row: sqlite3.Row,
        state: str,
        now: float,
        closed_at: float | None = None,
    ) -> None:
        stamps = json.loads(row["timestamps"])
        stamps.append({"status": state, "timestamp": iso_z(now)})
        conn.execute(
            "UPDATE sessions SET state = ?, timestamps = ?, closed_at = COALESCE(?, closed_at) "
            "WHERE id = ?",
            (state, json.dumps(stamps), closed_at, row["id"]),
        )

    def _row(self, conn: sqlite3.Connection, crn: str, session_id: str) -> sqlite3.Row:
        row: sqlite3.Row | None = conn.execute(
            "SELECT * FROM sessions WHERE id = ? AND instance_crn = ?", (session_id, crn)
        ).fetchone()
        if row is None:
            raise not_found(
                f"Session not found: {session_id!r}. Check the id; sessions of other instances "
                "are not visible."
            )
        return row


def _checked_interactive_ttl(value: object, mode: str, max_ttl: int) -> int:
    """The session's ``interactive_ttl``: as given (1 to ``max_ttl``), else the mode's default."""
    if value is None:
        default = DEFAULT_INTERACTIVE_TTL if mode == "dedicated" else 1
        return min(default, max_ttl)
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= max_ttl:
        raise bad_request(
            "'interactive_ttl' (how many seconds the session waits for its next job before it "
            f"lets its device go) must be a whole number from 1 to its max_ttl ({max_ttl}); got "
            f"{shown_value(value)}. Leave it out for the default."
        )
    return value
