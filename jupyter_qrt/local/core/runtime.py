"""The core of the local runtime service: :class:`LocalRuntime` (its identity and backend
operations are in :mod:`.identity_ops` and :mod:`.backend_ops`).

Everything the HTTP layer serves, without HTTP: instances, keys and usage; backends; jobs and
their queue; sessions. Every method is synchronous, thread-safe and quick (SQLite reads and
writes); jobs run in worker processes the core manages. Calls are scoped to an instance CRN:
another instance's job or session is a 404, never visible. Errors are :class:`ServiceError`
with the HTTP status, an IBM-style code and a message that says what to do next.

Example::

    runtime = LocalRuntime("~/.qrt-local")
    runtime.start()
    crn = runtime.default_instance.crn
    job = runtime.create_job(crn, "me", {"program_id": "sampler", "backend": "qrt_wren",
                                         "params": params})   # params in wire form
    runtime.wait_for_job(crn, job["id"], timeout=60)
    text = runtime.job_results(crn, job["id"])             # RuntimeEncoder JSON
    runtime.stop()

Storage is SQLite in ``data_dir`` (see :mod:`.store`); the queue order, worker processes,
cancellation and max execution time are in :mod:`.scheduler` and :mod:`.job_queue`; reason codes
of failed jobs in :mod:`.job_reasons`; error codes in :mod:`.service_error`.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Callable, Sequence
from datetime import datetime
from pathlib import Path
from types import TracebackType
from typing import Any

from jupyter_qrt.local.devices import DeviceCatalog, builtin_catalog
from jupyter_qrt.local.identity.records import InstanceInfo, KeyInfo
from jupyter_qrt.local.identity.registry import IdentityRegistry
from jupyter_qrt.local.jobs.queue import REQUEUED_AFTER_STOP, JobQueue
from jupyter_qrt.local.jobs.registry import MAX_PAGE_SIZE, JobRegistry
from jupyter_qrt.local.jobs.request import DEFAULT_COST_SECONDS
from jupyter_qrt.local.jobs.sessions import SessionRegistry
from jupyter_qrt.local.jobs.views import FINAL_STATUSES
from jupyter_qrt.local.service_error import ServiceError
from jupyter_qrt.local.store.database import DataDirBusyError, DataDirLock, Store
from jupyter_qrt.local.workers.config import memory_limit_bytes, start_seconds
from jupyter_qrt.local.workers.pacing import Pacing, PacingLike
from jupyter_qrt.local.workers.protocol import WorkerInit
from jupyter_qrt.local.workers.scheduler import Scheduler

from .backend_ops import BackendOperations
from .identity_ops import IdentityOperations

__all__ = ["DataDirBusyError", "InstanceInfo", "KeyInfo", "LocalRuntime", "ServiceError"]

log = logging.getLogger(__name__)


class LocalRuntime(IdentityOperations, BackendOperations):
    """The local Qiskit Runtime service, minus HTTP.

    Parameters
    ----------
    data_dir
        Directory for the database and the ``default-key`` file (created if missing).
    catalog
        The devices to serve; default :func:`~.devices.builtin_catalog`.
    workers
        Number of worker processes, i.e. jobs that run at the same time.
    max_body_bytes
        Largest job params accepted (413 above).
    clock
        Returns the current POSIX time (timestamps and session expiry; tests may fake it).
    default_cost
        Max execution time in seconds of a job that does not set ``cost``.
    worker_log_level
        Level of what worker processes log to stderr.
    threads_per_worker
        Simulator (OpenMP) threads of each worker; default: usable cores // workers, at least 1.
    worker_start_seconds
        Seconds a worker may take to get ready before it is replaced; default
        ``$QRT_WORKER_START_SECONDS``, else 120 (see :mod:`jupyter_qrt.local.workers.config`).
    worker_memory_mb
        MiB of memory one job may use in its worker (0: no limit); default
        ``$QRT_WORKER_MEMORY_MB``, else 3/4 of the machine's memory shared by the workers.
    pacing
        Off by default. A factor for every device, ``{device: factor}``, or a
        :class:`~.workers.pacing.Pacing`: jobs then hold their device for factor x their device
        time, one at a time, so queues build and runs can be watched and cancelled.

    Raises
    ------
    ValueError
        ``workers`` below 1, or a worker limit that is not a valid number.
    """

    def __init__(
        self,
        data_dir: str | os.PathLike[str],
        *,
        catalog: DeviceCatalog | None = None,
        workers: int = 2,
        max_body_bytes: int = 50_000_000,
        clock: Callable[[], float] = time.time,
        default_cost: int = DEFAULT_COST_SECONDS,
        worker_log_level: int = logging.WARNING,
        threads_per_worker: int | None = None,
        worker_start_seconds: float | None = None,
        worker_memory_mb: int | None = None,
        pacing: PacingLike = None,
    ) -> None:
        if workers < 1:
            raise ValueError(f"workers must be at least 1, got {workers}")
        self._data_dir = Path(data_dir).expanduser()
        self._catalog = catalog if catalog is not None else builtin_catalog()
        self._catalog_lock = threading.RLock()
        self._workers = workers
        self._clock = clock
        self._worker_log_level = worker_log_level
        self._threads_per_worker = threads_per_worker
        # Checked now: a bad value should stop the caller, not a worker later.
        self._worker_start_seconds = start_seconds(worker_start_seconds)
        self._worker_memory = memory_limit_bytes(worker_memory_mb, workers)
        self._pacing = Pacing.coerce(pacing)
        self._lifecycle = threading.Lock()
        self._store = Store(self._data_dir)
        self._identity = IdentityRegistry(self._store, self._data_dir, clock)
        self._sessions = SessionRegistry(
            self._store, clock, self._check_backend, self._cancel_queued_of_session
        )
        self._queue = JobQueue(self._store, self._sessions, clock)
        self._jobs = JobRegistry(
            self._store,
            self._identity,
            self._sessions,
            clock,
            self._check_backend,
            on_queued=self._wake,
            on_cancel_running=self._stop_run,
            max_params_bytes=max_body_bytes,
            default_cost=default_cost,
            calibration_exists=self._check_calibration,
            charged_seconds=self._pacing.charged_seconds,
        )
        self._scheduler: Scheduler | None = None
        self._dir_lock = DataDirLock(self._data_dir)
        self._default_instance: InstanceInfo | None = None
        self._default_key: str | None = None

    # ---------------------------------------------------------------- lifecycle
    def start(self, *, run_jobs: bool = True) -> None:
        """Open the database (WAL), recover interrupted jobs, start the workers. Idempotent.

        Parameters
        ----------
        run_jobs
            False opens the database only (instances, keys, reading jobs), e.g. for management
            commands next to a running service: no workers, no recovery of interrupted jobs.

        Raises
        ------
        DataDirBusyError
            With ``run_jobs``, when another service runs jobs from the same data dir.
        """
        with self._lifecycle:
            opened_here = not self._store.is_open
            if opened_here:
                self._store.open()  # creates the data dir 0700 if missing
            try:
                if opened_here:
                    self._default_instance, self._default_key = self._identity.ensure_defaults()
                if run_jobs and self._scheduler is None:
                    self._start_jobs()
            except BaseException:
                if opened_here:
                    self._store.close()
                raise

    def _start_jobs(self) -> None:
        self._dir_lock.acquire()
        try:
            requeued, failed = self._queue.recover()
            if requeued or failed:
                log.warning(
                    "Jobs interrupted by the last stop: %d queued again, %d failed",
                    requeued,
                    failed,
                )
            self._sessions.expire()
            with self._catalog_lock:
                init = WorkerInit(
                    name="worker",
                    db_path=str(self._store.path),
                    catalog=self._catalog,
                    log_level=self._worker_log_level,
                    memory_limit=self._worker_memory,
                )
                scheduler = Scheduler(
                    self._queue,
                    init,
                    self._workers,
                    tick=self._tick,
                    threads_per_worker=self._threads_per_worker,
                    start_timeout=self._worker_start_seconds,
                    pacing=self._pacing,
                )
            scheduler.start()
        except BaseException:
            self._dir_lock.release()
            raise
        self._scheduler = scheduler
        log.info("Local runtime started in %s with %d workers", self._data_dir, self._workers)

    def stop(self) -> None:
        """Stop the workers (running jobs are queued again for the next start), close the DB.

        Idempotent.
        """
        with self._lifecycle:
            scheduler, self._scheduler = self._scheduler, None
            if scheduler is not None:
                interrupted = scheduler.stop()
                if interrupted:
                    self._queue.requeue(interrupted, REQUEUED_AFTER_STOP)
            self._store.close()
            self._dir_lock.release()

    def __enter__(self) -> LocalRuntime:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    @property
    def data_dir(self) -> Path:
        """The directory holding the database and the default key file."""
        return self._data_dir

    @property
    def is_running(self) -> bool:
        """Whether jobs are being run (``start()`` with ``run_jobs``, and no ``stop()`` since)."""
        return self._scheduler is not None

    # --------------------------------------------------------------------- jobs
    def create_job(
        self, crn: str, user_id: str, body: dict[str, Any], *, caller: str | None = None
    ) -> dict[str, Any]:
        """``POST /jobs``: queue a job; ``{"id", "backend"[, "session_id"]}``.

        400 for a malformed body, 404 for an unknown program, backend or session, 409 for a
        closed session, 403 when the instance has reached its usage limit, 413 for params larger
        than ``max_body_bytes``. ``caller`` (e.g. the client's ``X-Qx-Client-Application``) is
        shown in the job's metrics.
        """
        return self._jobs.create(crn, user_id, body, caller=caller)

    def job(self, crn: str, job_id: str, *, exclude_params: bool = True) -> dict[str, Any]:
        """``GET /jobs/{id}``; Queued jobs also carry ``queue_position`` (1 = next)."""
        return self._jobs.details(crn, job_id, include_params=not exclude_params)

    def jobs(
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
        """``GET /jobs``: ``{"jobs", "count", "limit", "offset"}``, newest first.

        ``count`` is the number of jobs matching the filters (all pages); ``limit`` is capped
        at 200; ``tags`` matches jobs having every tag given; ``updated_before`` matches jobs
        whose status last changed at or before then.
        """
        return self._jobs.list_page(
            crn,
            limit=limit,
            offset=offset,
            backend=backend,
            pending=pending,
            program=program,
            tags=tags,
            session_id=session_id,
            created_after=created_after,
            created_before=created_before,
            updated_before=updated_before,
            ascending=ascending,
        )

    def job_results(self, crn: str, job_id: str) -> str:
        """``GET /jobs/{id}/results``: RuntimeEncoder JSON, or why it failed; 409 if pending."""
        return self._jobs.results(crn, job_id)

    def cancel_job(self, crn: str, job_id: str) -> None:
        """``POST /jobs/{id}/cancel``: Cancelled at once; a running run is killed. 409 if final."""
        self._jobs.cancel(crn, job_id)

    def delete_job(self, crn: str, job_id: str) -> None:
        """``DELETE /jobs/{id}``: cancel it if pending, then forget it and its results."""
        self._jobs.delete(crn, job_id)

    def job_metrics(self, crn: str, job_id: str) -> dict[str, Any]:
        """``GET /jobs/{id}/metrics``."""
        return self._jobs.metrics(crn, job_id)

    def job_logs(self, crn: str, job_id: str) -> str:
        """``GET /jobs/{id}/logs``."""
        return self._jobs.logs(crn, job_id)

    def replace_job_tags(self, crn: str, job_id: str, tags: list[str]) -> None:
        """``PUT /jobs/{id}/tags``."""
        self._jobs.replace_tags(crn, job_id, tags)

    def wait_for_job(
        self, crn: str, job_id: str, timeout: float = 60.0, poll: float = 0.02
    ) -> dict[str, Any]:
        """Block until the job has ended; return its details.

        Raises
        ------
        TimeoutError
            The job has not ended within ``timeout`` seconds (it goes on).
        """
        deadline = time.monotonic() + timeout
        while True:
            details = self.job(crn, job_id)
            if details["state"]["status"] in FINAL_STATUSES:
                return details
            if time.monotonic() >= deadline:
                raise TimeoutError(
                    f"Job {job_id} is still {details['state']['status']} after {timeout} s."
                )
            time.sleep(poll)

    # ----------------------------------------------------------------- sessions
    def create_session(
        self, crn: str, body: dict[str, Any], *, user_id: str = ""
    ) -> dict[str, Any]:
        """``POST /sessions`` (``mode``: dedicated|batch, ``backend``, ``max_ttl``)."""
        return self._sessions.create(crn, user_id, body)

    def session(self, crn: str, session_id: str) -> dict[str, Any]:
        """``GET /sessions/{id}``."""
        return self._sessions.details(crn, session_id)

    def update_session(self, crn: str, session_id: str, body: dict[str, Any]) -> None:
        """``PATCH /sessions/{id}`` with ``{"accepting_jobs": bool}``."""
        self._sessions.update(crn, session_id, body)

    def close_session(self, crn: str, session_id: str) -> None:
        """``DELETE /sessions/{id}/close``: cancel its queued jobs and close it."""
        self._sessions.close(crn, session_id)

    # ------------------------------------------------------------------ helpers
    def _cancel_queued_of_session(self, conn: Any, session_id: str, reason: str) -> None:
        self._jobs.cancel_queued_of_session(conn, session_id, reason)

    def _tick(self) -> None:
        # About once a second, from the scheduler's thread.
        self._sessions.expire()
        self._queue.note_held()

    def _wake(self) -> None:
        scheduler = self._scheduler
        if scheduler is not None:
            scheduler.wake()

    def _stop_run(self, job_id: str) -> None:
        scheduler = self._scheduler
        if scheduler is not None:
            scheduler.cancel(job_id)
