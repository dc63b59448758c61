"""Jobs as their owners see them: create, read, list, cancel, delete, tags, results, logs.

Every call is scoped to an instance CRN: another instance's job is a 404, never visible. The
queue side (which job runs next, how a run ends) is in :mod:`.job_queue`.
"""

from __future__ import annotations

import json
import logging
import secrets
import sqlite3
import zlib
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any

from jupyter_qrt.local.identity.registry import IdentityRegistry
from jupyter_qrt.local.service_error import ServiceError, bad_request, conflict, not_found
from jupyter_qrt.local.store.database import Store

from .bookkeeping import append_log, end_job, queue_lengths, queue_position, usage_hold
from .filters import job_filter_sql
from .request import DEFAULT_COST_SECONDS, JobRequest, check_tags, parse_job_request
from .sessions import SessionRegistry
from .views import FINAL_STATUSES, job_details, job_metrics

__all__ = ["MAX_PAGE_SIZE", "JobRegistry"]

log = logging.getLogger(__name__)

MAX_PAGE_SIZE = 200
"""Most jobs in one page of ``GET /jobs`` (the IBM API's cap; also the default page size)."""

_MAX_OFFSET = 2**63 - 1  # SQLite's largest integer


class JobRegistry:
    """The jobs of every instance, in the service's database.

    Parameters
    ----------
    store, identity, sessions
        The store and the registries jobs depend on.
    clock
        Returns the current POSIX time.
    backend_exists
        Raises the 404 ``ServiceError`` for an unknown backend name.
    on_queued
        Called after a job was queued (wakes the scheduler).
    on_cancel_running
        Called with a job id after a Running job was cancelled (stops its worker).
    max_params_bytes
        Largest accepted params JSON (413 above).
    default_cost
        Max execution time of a job that gives no ``cost``.
    calibration_exists
        Raises the 404 ``ServiceError`` for a ``calibration_id`` the backend does not have.
    charged_seconds
        The usage charged for a run on a backend cancelled after it ran some seconds (paced
        devices stand for more device time than that; see :mod:`..workers.pacing`).
    """

    def __init__(
        self,
        store: Store,
        identity: IdentityRegistry,
        sessions: SessionRegistry,
        clock: Callable[[], float],
        backend_exists: Callable[[str], None],
        on_queued: Callable[[], None],
        on_cancel_running: Callable[[str], None],
        max_params_bytes: int,
        default_cost: int = DEFAULT_COST_SECONDS,
        calibration_exists: Callable[[str, str | None], None] = lambda name, wanted: None,
        charged_seconds: Callable[[str, float], float] = lambda backend, ran: ran,
    ) -> None:
        self._store = store
        self._identity = identity
        self._sessions = sessions
        self._clock = clock
        self._backend_exists = backend_exists
        self._calibration_exists = calibration_exists
        self._charged_seconds = charged_seconds
        self._on_queued = on_queued
        self._on_cancel_running = on_cancel_running
        self._max_params_bytes = max_params_bytes
        self._default_cost = default_cost

    def create(
        self, crn: str, user_id: str, body: object, *, caller: str | None = None
    ) -> dict[str, Any]:
        """``POST /jobs``: check, store as Queued, return ``{"id", "backend"[, "session_id"]}``."""
        request = parse_job_request(
            body, max_params_bytes=self._max_params_bytes, default_cost=self._default_cost
        )
        if request.backend is not None:
            self._backend_exists(request.backend)
            self._calibration_exists(request.backend, request.calibration_id)
        job_id = secrets.token_hex(10)
        # Microseconds, as the API reports ``created``: a client that filters with a job's own
        # creation time (created_after=job.creation_date) must find that job again.
        now = round(self._clock(), 6)
        try:
            backend = self._store_job(job_id, crn, user_id, request, now, caller)
        except ServiceError:
            raise
        except Exception as exc:
            # A locked or full database is the store's 503 (re-raised above: the write was rolled
            # back, so a retry is safe). Only here can a job be stored without its creator
            # learning so (e.g. a failed write whose rollback failed too). The official client
            # sends a POST again on a 5xx, so answer with a status it does not retry.
            log.exception("Storing job %s failed unexpectedly", job_id)
            raise bad_request(
                "The service could not confirm that the job was created. List your jobs before "
                "sending it again, so that it does not run twice."
            ) from exc
        try:
            self._on_queued()
        except Exception:  # the job is stored: the scheduler finds it on its next round anyway
            log.exception("Could not wake the scheduler for job %s", job_id)
        created: dict[str, Any] = {"id": job_id, "backend": backend}
        if request.session_id is not None:
            created["session_id"] = request.session_id
        if request.private:
            created["private"] = True
        return created

    def _store_job(
        self,
        job_id: str,
        crn: str,
        user_id: str,
        request: JobRequest,
        now: float,
        caller: str | None,
    ) -> str:
        """Insert the checked job as Queued in one transaction; return its backend."""
        with self._store.transaction() as conn:
            self._identity.check_usage_allows_jobs(conn, crn)
            backend = request.backend
            priority = 1
            if request.session_id is not None:
                backend = self._sessions.check_accepts_job(
                    conn, crn, request.session_id, request.backend
                )
                if self._sessions.jobs_go_first(conn, request.session_id):
                    priority = 0
            if request.fixed_chunks and not (
                request.session_id is not None
                and self._sessions.is_dedicated(conn, request.session_id)
            ):
                raise bad_request(
                    "A whole-number 'chunk_size' is only allowed in session execution mode "
                    "(IBM's rule): run the Executor in a Session, or leave chunk_size unset "
                    "('auto')."
                )
            assert backend is not None  # parse_job_request wants a backend or a session
            conn.execute(
                "INSERT INTO jobs(id, instance_crn, user_id, backend, program_id, status, "
                "priority, session_id, tags, cost, log_level, runtime, private, caller, "
                "estimated_seconds, created) "
                "VALUES (?, ?, ?, ?, ?, 'Queued', ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    job_id,
                    crn,
                    user_id,
                    backend,
                    request.program_id,
                    priority,
                    request.session_id,
                    json.dumps(list(request.tags)),
                    request.cost,
                    request.log_level,
                    request.runtime,
                    int(request.private),
                    caller,
                    request.estimated_seconds,
                    now,
                ),
            )
            conn.execute(
                "INSERT INTO job_params(job_id, data) VALUES (?, ?)", (job_id, request.params_text)
            )
            append_log(conn, job_id, now, f"Queued on {backend} ({request.program_id}).")
            if request.session_id is not None:
                self._sessions.refresh(conn, request.session_id)
        return backend

    def details(self, crn: str, job_id: str, *, include_params: bool = False) -> dict[str, Any]:
        """``GET /jobs/{id}``; a Queued job held back by a usage limit says so in its state.

        The params are read only when asked for (status polls leave them out), and never
        for a private job: IBM never returns those.
        """
        params_text: str | None = None
        with self._store.reading() as conn:
            row = self._row(conn, crn, job_id)
            hold = usage_hold(conn, crn) if row["status"] == "Queued" else None
            position = queue_position(conn, row, held=hold is not None)
            if include_params and not row["private"]:
                params_text = self._params_text(conn, job_id)
        # Decoded outside the store lock: params can be tens of MB.
        return job_details(row, queue_position=position, held_reason=hold, params_text=params_text)

    def list_page(
        self,
        crn: str,
        *,
        limit: int = MAX_PAGE_SIZE,
        offset: int = 0,
        backend: str | None = None,
        pending: bool | None = None,
        program: str | None = None,
        tags: Sequence[str] | None = None,
        session_id: str | None = None,
        created_after: str | datetime | float | None = None,
        created_before: str | datetime | float | None = None,
        updated_before: str | datetime | float | None = None,
        ascending: bool = False,
    ) -> dict[str, Any]:
        """``GET /jobs``: a page of the instance's jobs and the total count matching.

        ``updated_before`` keeps the jobs whose status last changed (created, started running,
        ended) at or before that instant.
        """
        if isinstance(limit, bool) or not isinstance(limit, int) or limit < 0:
            raise bad_request(f"'limit' must be a whole number >= 0; got {limit!r}.")
        if (
            isinstance(offset, bool)
            or not isinstance(offset, int)
            or not 0 <= offset <= _MAX_OFFSET
        ):
            raise bad_request(f"'offset' must be a whole number from 0 to {_MAX_OFFSET}.")
        limit = min(limit, MAX_PAGE_SIZE)
        clause, args = job_filter_sql(
            crn,
            backend=backend,
            pending=pending,
            program=program,
            tags=tags,
            session_id=session_id,
            created_after=created_after,
            created_before=created_before,
            updated_before=updated_before,
        )
        order = "ASC" if ascending else "DESC"
        with self._store.reading() as conn:
            # One read transaction, so that count and page see the same jobs.
            conn.execute("BEGIN")
            try:
                count = int(
                    conn.execute(f"SELECT COUNT(*) FROM jobs WHERE {clause}", args).fetchone()[0]
                )
                rows = conn.execute(
                    f"SELECT * FROM jobs WHERE {clause} ORDER BY seq {order} LIMIT ? OFFSET ?",
                    [*args, limit, offset],
                ).fetchall()
                hold = usage_hold(conn, crn)
                held = hold is not None
                jobs = [
                    job_details(
                        row, queue_position=queue_position(conn, row, held), held_reason=hold
                    )
                    for row in rows
                ]
            finally:
                conn.execute("COMMIT")
        return {"jobs": jobs, "count": count, "limit": limit, "offset": offset}

    def cancel(self, crn: str, job_id: str, reason: str = "Cancelled on request.") -> None:
        """``POST /jobs/{id}/cancel`` (409 once the job has ended)."""
        with self._store.transaction() as conn:
            row = self._row(conn, crn, job_id)
            if row["status"] in FINAL_STATUSES:
                raise conflict(
                    f"Job {job_id} has already ended ({row['status']}); only Queued or Running "
                    "jobs can be cancelled."
                )
            was_running = row["status"] == "Running"
            self._cancel_in(conn, row, reason)
        if was_running:
            self._on_cancel_running(job_id)

    def cancel_queued_of_session(
        self, conn: sqlite3.Connection, session_id: str, reason: str
    ) -> None:
        """Cancel, within ``conn``'s transaction, the Queued jobs of a session."""
        rows = conn.execute(
            "SELECT * FROM jobs WHERE session_id = ? AND status = 'Queued'", (session_id,)
        ).fetchall()
        for row in rows:
            self._cancel_in(conn, row, reason)

    def delete(self, crn: str, job_id: str) -> None:
        """``DELETE /jobs/{id}``: a Queued or Running job is cancelled first."""
        with self._store.transaction() as conn:
            row = self._row(conn, crn, job_id)
            was_running = row["status"] == "Running"
            if row["status"] not in FINAL_STATUSES:
                self._cancel_in(conn, row, "Cancelled because the job was deleted.")
            conn.execute("DELETE FROM jobs WHERE id = ?", (job_id,))
        if was_running:
            self._on_cancel_running(job_id)

    def results(self, crn: str, job_id: str) -> str:
        """``GET /jobs/{id}/results``: the RuntimeEncoder text; for a job that ended badly, why.

        A private job's results can be read once: they are deleted as they are read.
        """
        with self._store.reading() as conn:
            row = self._row(conn, crn, job_id)
            status = row["status"]
            private = bool(row["private"])
            read = "SELECT data FROM results WHERE job_id = ?"
            if not private:
                data = conn.execute(read, (job_id,)).fetchone()
        if private:
            # Read and deleted in one statement: of two readers, one only gets them.
            read = "DELETE FROM results WHERE job_id = ? RETURNING data"
            with self._store.transaction() as conn:
                data = conn.execute(read, (job_id,)).fetchone()
        if status == "Completed" and data is not None:
            return zlib.decompress(bytes(data[0])).decode("utf-8")
        if status == "Completed" and private:
            raise not_found(
                f"The results of job {job_id} were read once and then deleted: the results of a "
                "private job can be read only once. Keep them when you first read them, or run "
                "the job again."
            )
        if status == "Completed":
            raise not_found(f"The results of job {job_id} are missing from the service's store.")
        if status in ("Failed", "Cancelled"):
            # The official client shows this text as the error of a failed job.
            return str(row["reason"] or f"The job was {status.lower()}.")
        raise conflict(
            f"Job {job_id} is {status}: its results are available once it is Completed. Poll "
            "GET /jobs/{id} until then."
        )

    def metrics(self, crn: str, job_id: str) -> dict[str, Any]:
        """``GET /jobs/{id}/metrics``."""
        with self._store.reading() as conn:
            row = self._row(conn, crn, job_id)
        return job_metrics(row)

    def logs(self, crn: str, job_id: str) -> str:
        """``GET /jobs/{id}/logs`` as text."""
        with self._store.reading() as conn:
            row = self._row(conn, crn, job_id)
        return str(row["logs"])

    def replace_tags(self, crn: str, job_id: str, tags: object) -> None:
        """``PUT /jobs/{id}/tags``."""
        checked = check_tags(tags)
        with self._store.transaction() as conn:
            self._row(conn, crn, job_id)
            conn.execute(
                "UPDATE jobs SET tags = ? WHERE id = ?", (json.dumps(list(checked)), job_id)
            )

    def queue_lengths(self) -> dict[str, int]:
        """Queued jobs per backend name (jobs held back by a usage limit are not counted)."""
        with self._store.reading() as conn:
            return queue_lengths(conn)

    # ------------------------------------------------------------------ helpers
    def _cancel_in(self, conn: sqlite3.Connection, row: sqlite3.Row, reason: str) -> None:
        now = self._clock()
        used = 0.0
        if row["status"] == "Running":
            used = self._charged_seconds(row["backend"], max(now - float(row["running"]), 0.0))
        end_job(
            conn,
            self._sessions,
            row,
            now,
            status="Cancelled",
            reason=reason,
            code=None,
            used=used,
            note=reason,
        )

    def _params_text(self, conn: sqlite3.Connection, job_id: str) -> str:
        found = conn.execute("SELECT data FROM job_params WHERE job_id = ?", (job_id,)).fetchone()
        if found is None:
            raise not_found(f"The params of job {job_id} are missing from the service's store.")
        return str(found[0])

    def _row(self, conn: sqlite3.Connection, crn: str, job_id: str) -> sqlite3.Row:
        row: sqlite3.Row | None = conn.execute(
            "SELECT * FROM jobs WHERE id = ? AND instance_crn = ?", (job_id, crn)
        ).fetchone()
        if row is None:
            raise not_found(
                f"Job not found: {job_id!r}. Check the id; jobs of other instances are not "
                "visible, and deleted jobs are gone."
            )
        return row
