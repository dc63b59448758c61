"""The scheduler under adverse conditions: many open files, a database that refuses writes for a
while, a worker that cannot start, a start that fails half-way.

Each test runs a real service core with real worker processes; the conditions are real too (file
descriptors opened, a write lock held by another connection, a Python that cannot start), except
the failed process creation, which stands in for the OS refusing a fork.
"""

from __future__ import annotations

import errno
import logging
import os
import re
import resource
import signal
import sqlite3
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from jupyter_qrt.local.core import LocalRuntime
from jupyter_qrt.local.store import database as store_module

from .core_helpers import IDEAL, long_circuit, sampler_body

WAIT = 60.0
OPEN_FILES = 1100


def _wait_until(condition: Any, what: str, timeout: float = WAIT) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting until {what}"
        time.sleep(0.02)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


# ------------------------------------------------------------------- many file descriptors
@pytest.fixture
def many_open_files() -> Iterator[None]:
    """Hold OPEN_FILES descriptors, so that every new one is numbered above 1024."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    needed = OPEN_FILES + 400  # the service's own sockets, pipes and database files
    if soft != resource.RLIM_INFINITY and soft < needed:
        if hard != resource.RLIM_INFINITY and hard < needed:
            pytest.skip(f"RLIMIT_NOFILE allows {hard} open files; this test needs {needed}")
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (needed, hard))
        except (ValueError, OSError) as exc:
            pytest.skip(f"cannot raise RLIMIT_NOFILE to {needed}: {exc}")
    opened: list[int] = []
    try:
        for _ in range(OPEN_FILES):
            opened.append(os.open(os.devnull, os.O_RDONLY))
        yield
    finally:
        for fd in opened:
            os.close(fd)
        resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))


@pytest.mark.usefixtures("many_open_files")
def test_jobs_run_while_the_process_holds_more_than_1024_files(tmp_path: Path) -> None:
    probe = os.open(os.devnull, os.O_RDONLY)
    os.close(probe)
    assert probe >= 1024  # every socket of the service below is numbered above select()'s limit
    runtime = LocalRuntime(tmp_path, workers=1)
    runtime.start()
    try:
        crn = runtime.default_instance.crn
        job_id = runtime.create_job(crn, "me", sampler_body(IDEAL))["id"]
        assert runtime.wait_for_job(crn, job_id, WAIT)["state"]["status"] == "Completed"
    finally:
        runtime.stop()


# ------------------------------------------------------------------ a database that refuses
def test_an_outcome_the_database_refused_is_recorded_once_it_can_be(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    from jupyter_qrt.runtime.wire.decoding import loads

    caplog.set_level(logging.WARNING, logger="jupyter_qrt.local.workers.outcomes")
    # Writes give up after 0.2 s instead of 10 s of waiting for the lock.
    monkeypatch.setattr(store_module, "BUSY_TIMEOUT_MS", 200)
    runtime = LocalRuntime(tmp_path, workers=1)
    runtime.start()
    try:
        crn = runtime.default_instance.crn
        body = sampler_body(IDEAL, long_circuit(layers=40), shots=1)  # runs a few seconds
        job_id = runtime.create_job(crn, "me", body)["id"]
        _wait_until(lambda: runtime.job(crn, job_id)["state"]["status"] == "Running", "Running")
        # Another process holds the write lock while the job ends (reads still work).
        other = sqlite3.connect(tmp_path / store_module.DB_FILENAME, isolation_level=None)
        other.execute("BEGIN IMMEDIATE")
        try:
            _wait_until(
                lambda: any(
                    f"Could not record that job {job_id} completed" in r.getMessage()
                    for r in caplog.records
                ),
                "the scheduler failed to record the result",
            )
            assert runtime.job(crn, job_id)["state"]["status"] == "Running"
        finally:
            other.execute("ROLLBACK")
            other.close()
        details = runtime.wait_for_job(crn, job_id, WAIT)
        assert details["state"]["status"] == "Completed"
        result = loads(runtime.job_results(crn, job_id))
        assert sum(result[0].data.meas.get_counts().values()) == 1
    finally:
        runtime.stop()


# ----------------------------------------------------------- a worker that cannot start
def _start_up_failures(caplog: pytest.LogCaptureFixture) -> list[logging.LogRecord]:
    return [r for r in caplog.records if "exited during start-up" in r.getMessage()]


def _retry_delay(record: logging.LogRecord) -> float:
    """The back-off a start-up failure record announces (its third argument)."""
    assert isinstance(record.args, tuple)
    return float(record.args[2])


def test_a_cancel_is_handled_while_a_broken_worker_waits_to_restart(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.ERROR, logger="jupyter_qrt.local.workers.scheduler")
    runtime = LocalRuntime(tmp_path, workers=2)
    runtime.start()
    try:
        crn = runtime.default_instance.crn
        scheduler = runtime._scheduler
        assert scheduler is not None
        job_id = runtime.create_job(crn, "me", sampler_body(IDEAL, long_circuit(), shots=1))["id"]
        _wait_until(lambda: runtime.job(crn, job_id)["state"]["status"] == "Running", "Running")
        # No worker was replaced yet: worker-N is the N-th of worker_pids().
        match = re.search(r"\(worker-(\d+)\)", runtime.job_logs(crn, job_id))
        assert match is not None
        pids = scheduler.worker_pids()
        busy = pids[int(match.group(1)) - 1]
        (idle,) = (pid for pid in pids if pid != busy)

        # From now on a new worker cannot start (there is no Python there): the idle worker's
        # replacement dies at once, again and again, with a growing back-off.
        monkeypatch.setenv("PYTHONHOME", str(tmp_path / "no-python-here"))
        os.kill(idle, signal.SIGKILL)
        _wait_until(
            lambda: any(_retry_delay(r) >= 2 for r in _start_up_failures(caplog)),
            "a restart back-off of 2 s",
        )
        failures = len(_start_up_failures(caplog))
        runtime.cancel_job(crn, job_id)
        _wait_until(lambda: not _alive(busy), "the cancelled job's worker is stopped")
        # It was stopped during the back-off, not after it (no new start was tried meanwhile).
        assert len(_start_up_failures(caplog)) == failures

        monkeypatch.delenv("PYTHONHOME")  # the installation is repaired: workers start again
        after = runtime.create_job(crn, "me", sampler_body(IDEAL))["id"]
        assert runtime.wait_for_job(crn, after, WAIT)["state"]["status"] == "Completed"
    finally:
        runtime.stop()


# ---------------------------------------------------------------- a start that fails midway
def test_a_start_that_fails_midway_leaves_no_worker_behind(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    real_popen = subprocess.Popen
    started: list[subprocess.Popen[bytes]] = []

    def popen_once(*args: Any, **kwargs: Any) -> subprocess.Popen[bytes]:
        if started:  # the second worker: the OS refuses another process
            raise OSError(errno.EAGAIN, "Resource temporarily unavailable")
        started.append(real_popen(*args, **kwargs))
        return started[-1]

    monkeypatch.setattr(subprocess, "Popen", popen_once)
    runtime = LocalRuntime(tmp_path, workers=2)
    with pytest.raises(OSError, match="Resource temporarily unavailable"):
        runtime.start()
    assert not runtime.is_running
    (first,) = started
    assert first.poll() is not None  # killed and reaped, not left running

    monkeypatch.undo()
    runtime.start()  # nothing was left locked or open
    try:
        assert runtime.is_running
    finally:
        runtime.stop()
