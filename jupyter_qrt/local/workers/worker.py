"""A worker process of the local runtime service: runs one job at a time, as told.

Started by the scheduler as ``python -m jupyter_qrt.local.workers.worker <socket fd>`` (a fresh
interpreter, not a fork: the service process runs an event loop and threads). It reads
:class:`~.worker_protocol.WorkerInit`, imports qiskit and qiskit-aer once, says
:class:`~.worker_protocol.WorkerReady`, then serves :class:`~.worker_protocol.RunJob` messages:
params from the database, decoded with :func:`jupyter_qrt.runtime.wire.decoding.loads`, run by
:mod:`jupyter_qrt.local.execution`, the result encoded with
:func:`jupyter_qrt.runtime.wire.encoding.dumps`.

The scheduler stops a run by killing the process, so nothing here needs to be interruptible. A
watchdog thread ends the process when the service process is gone (a worker never outlives it).

Jobs come from anyone with a key: once the imports are done, the worker limits the memory a job
may take (:mod:`.memory`), and decodes params with the same limit on how far they may
inflate. A job that runs out of memory fails with 1517 and the worker exits after saying so
(its heap may be left fragmented); the scheduler starts a fresh one.
"""

from __future__ import annotations

import io
import json
import logging
import os
import socket
import sqlite3
import sys
import threading
import time
import traceback
import zlib
from typing import Any

from jupyter_qrt.local.job_reasons import DEVICE_GONE, INTERNAL_ERROR, INVALID_PUB
from jupyter_qrt.local.store.database import open_readonly

from .memory import (
    apply_memory_limit,
    is_out_of_memory,
    out_of_memory_reason,
    payload_too_large_reason,
)
from .protocol import (
    JobDone,
    JobFailed,
    RunJob,
    WorkerInit,
    WorkerReady,
    receive_message,
    send_message,
)

__all__ = ["main", "run_job"]

log = logging.getLogger(__name__)

_PARENT_POLL_SECONDS = 0.5
_EXECUTION_LOGGER = "jupyter_qrt.local.execution"


def main(argv: list[str] | None = None) -> int:
    """Serve jobs over the socket whose file descriptor is the first argument."""
    args = sys.argv[1:] if argv is None else argv
    sock = socket.socket(fileno=int(args[0]))
    _watch_parent(os.getppid())
    init = receive_message(sock)
    if not isinstance(init, WorkerInit):
        return 2
    stderr = logging.StreamHandler()
    stderr.setLevel(init.log_level)
    stderr.setFormatter(logging.Formatter(f"[{init.name}] %(levelname)s %(name)s: %(message)s"))
    logging.getLogger().addHandler(stderr)
    logging.getLogger().setLevel(init.log_level)
    qiskit_version = _warm_up()
    apply_memory_limit(init.memory_limit)
    send_message(sock, WorkerReady(pid=os.getpid()))
    conn: sqlite3.Connection | None = None
    while True:
        message = receive_message(sock)
        if message is None:
            return 0
        if not isinstance(message, RunJob):
            continue
        if conn is None:
            conn = open_readonly(init.db_path)
        outcome = run_job(message, init, conn, qiskit_version)
        send_message(sock, outcome)
        if isinstance(outcome, JobFailed) and outcome.worker_exits:
            return 0


def run_job(
    request: RunJob, init: WorkerInit, conn: sqlite3.Connection, qiskit_version: str
) -> JobDone | JobFailed:
    """Run one job and say how it went; never raises."""
    capture = _LogCapture(request.log_level)
    try:
        with capture:
            return _run(request, init, conn, qiskit_version, capture)
    except MemoryError:
        return _out_of_memory(request, init, capture.text() + traceback.format_exc())
    except Exception as exc:
        # Unexpected: the message names the problem, the traceback goes to the job's logs.
        return JobFailed(
            request.job_id,
            INTERNAL_ERROR,
            f"The local runtime service hit an internal error while running this job "
            f"({type(exc).__name__}: {exc}). The job's logs hold the details; please report "
            "them if this keeps happening.",
            logs=capture.text() + traceback.format_exc(),
        )


def _run(
    request: RunJob,
    init: WorkerInit,
    conn: sqlite3.Connection,
    qiskit_version: str,
    capture: _LogCapture,
) -> JobDone | JobFailed:
    from jupyter_qrt.local import execution
    from jupyter_qrt.runtime.errors import InvalidInputError, PayloadTooLargeError
    from jupyter_qrt.runtime.wire.decoding import loads

    # fetchall ends the statement, so this long-lived reader holds no snapshot between jobs
    # (an open one would keep the service's WAL file from being checkpointed).
    rows = conn.execute(
        "SELECT data FROM job_params WHERE job_id = ?", (request.job_id,)
    ).fetchall()
    if not rows:
        return JobFailed(request.job_id, INTERNAL_ERROR, "The job was deleted before it ran.")
    started = time.perf_counter()
    try:
        params = loads(rows[0][0], max_inflated_bytes=init.memory_limit)
    except PayloadTooLargeError as exc:
        limit = init.memory_limit if init.memory_limit is not None else exc.limit
        return JobFailed(
            request.job_id, INVALID_PUB, payload_too_large_reason(limit), logs=f"{exc}\n"
        )
    except (InvalidInputError, json.JSONDecodeError, ValueError, TypeError) as exc:
        return JobFailed(
            request.job_id,
            INVALID_PUB,
            f"The job's params could not be decoded: {str(exc).rstrip('.')}. Build the pubs with "
            "primitives of qiskit-ibm-runtime or jupyter_qrt.runtime.",
            logs=capture.text() + traceback.format_exc(),
        )
    decoded = time.perf_counter()
    if request.backend not in init.catalog:
        return JobFailed(
            request.job_id,
            DEVICE_GONE,
            f"The device {request.backend!r} is no longer served by this service. Submit the "
            f"job again to one of: {', '.join(init.catalog.names())}.",
        )
    device = init.catalog.get(request.backend)
    try:
        report = execution.run_program(request.program_id, device, params)
    except execution.ExecutionError as exc:
        if init.memory_limit is not None and is_out_of_memory(str(exc.message)):
            return _out_of_memory(request, init, capture.text() + traceback.format_exc())
        return JobFailed(
            request.job_id,
            int(exc.reason_code),
            str(exc.message),
            logs=capture.text() + traceback.format_exc(),
        )
    executed = time.perf_counter()
    compressed = zlib.compress(report.result_text().encode("utf-8"), 6)
    encoded = time.perf_counter()
    metrics: dict[str, Any] = dict(report.metrics)
    metrics.setdefault(
        "worker_seconds",
        {
            "decode": round(decoded - started, 6),
            "execute": round(executed - decoded, 6),
            "encode": round(encoded - executed, 6),
        },
    )
    return JobDone(
        request.job_id,
        compressed,
        quantum_seconds=float(report.quantum_seconds),
        metrics=metrics,
        qiskit_version=qiskit_version,
        logs="\n".join([*report.logs, capture.text()]).strip(),
    )


def _out_of_memory(request: RunJob, init: WorkerInit, logs: str) -> JobFailed:
    if init.memory_limit is None:
        reason = (
            "The job needed more memory than this machine could give it. Use fewer qubits (a "
            "statevector of n qubits takes 16 * 2**n bytes), fewer shots, pubs or parameter "
            "values."
        )
    else:
        reason = out_of_memory_reason(init.memory_limit)
    log.warning("Job %s ran out of memory; this worker exits", request.job_id)
    return JobFailed(request.job_id, INVALID_PUB, reason, logs=logs, worker_exits=True)


def _warm_up() -> str:
    # Import everything a job needs now, so that the first job does not pay for it.
    import qiskit
    import qiskit_aer  # noqa: F401

    from jupyter_qrt.local import execution  # noqa: F401
    from jupyter_qrt.runtime.wire import decoding, encoding  # noqa: F401

    return str(qiskit.__version__)


def _watch_parent(parent_pid: int) -> None:
    def watch() -> None:
        while True:
            time.sleep(_PARENT_POLL_SECONDS)
            if os.getppid() != parent_pid:
                os._exit(3)

    threading.Thread(target=watch, name="parent-watchdog", daemon=True).start()


class _LogCapture:
    """Collects the log records of one job (at the job's log level) as text for its logs."""

    def __init__(self, level_name: str | None) -> None:
        self._buffer = io.StringIO()
        self._handler = logging.StreamHandler(self._buffer)
        level = logging.getLevelName(level_name or "WARNING")
        self._level = level if isinstance(level, int) else logging.WARNING
        self._handler.setLevel(self._level)
        self._handler.setFormatter(logging.Formatter("%(levelname)s %(name)s: %(message)s"))
        # The execution module's lines reach the job through its report already.
        self._handler.addFilter(lambda record: not record.name.startswith(_EXECUTION_LOGGER))
        self._saved_level = logging.WARNING

    def __enter__(self) -> _LogCapture:
        root = logging.getLogger()
        self._saved_level = root.level
        # The root level lets the job's records through; the stderr handler keeps its own level.
        root.setLevel(min(self._saved_level, self._level))
        root.addHandler(self._handler)
        return self

    def __exit__(self, *exc: object) -> None:
        root = logging.getLogger()
        root.removeHandler(self._handler)
        root.setLevel(self._saved_level)

    def text(self) -> str:
        return self._buffer.getvalue()


if __name__ == "__main__":
    sys.exit(main())
