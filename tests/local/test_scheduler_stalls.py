"""The scheduler with workers that misbehave without dying: one that never gets ready, one that
stops half-way through a message.

Real service core, real worker processes. The misbehaviour is injected with a
``sitecustomize`` module on the workers' ``PYTHONPATH`` (Python imports it at start-up): it acts
in the first worker only (the first to create a marker file), so the replacements are healthy.
"""

from __future__ import annotations

import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest

from jupyter_qrt.local.core import LocalRuntime

from .core_helpers import IDEAL, WAIT, sampler_body

_FIRST_WORKER_ONLY = """
import os, sys, time
try:
    os.close(os.open({marker!r}, os.O_CREAT | os.O_EXCL | os.O_WRONLY))
except FileExistsError:
    pass  # a later worker: start normally
else:
{action}
"""


def _misbehave_once(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, action: str) -> None:
    """Make the first worker process started from now on run ``action`` at start-up."""
    hook = tmp_path / "hook"
    hook.mkdir()
    source = _FIRST_WORKER_ONLY.format(
        marker=str(tmp_path / "first-worker"), action=textwrap.indent(action, "    ")
    )
    (hook / "sitecustomize.py").write_text(source)
    monkeypatch.setenv("PYTHONPATH", str(hook))


@pytest.fixture
def runtime_factory(tmp_path: Path) -> Iterator[list[LocalRuntime]]:
    started: list[LocalRuntime] = []
    yield started
    for runtime in started:
        runtime.stop()


def test_a_worker_that_hangs_at_start_up_is_replaced_and_the_queue_moves(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, runtime_factory: list[LocalRuntime]
) -> None:
    # The only worker sleeps before it even imports qiskit; it never says it is ready.
    _misbehave_once(tmp_path, monkeypatch, "time.sleep(600)")
    monkeypatch.setenv("QRT_WORKER_START_SECONDS", "8")
    runtime = LocalRuntime(tmp_path / "data", workers=1)
    runtime.start()
    runtime_factory.append(runtime)
    crn = runtime.default_instance.crn
    job_id = runtime.create_job(crn, "me", sampler_body(IDEAL))["id"]
    details = runtime.wait_for_job(crn, job_id, WAIT)
    assert details["state"]["status"] == "Completed"


def test_a_worker_that_stalls_mid_message_does_not_hold_up_the_other_slots(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, runtime_factory: list[LocalRuntime]
) -> None:
    # The first worker writes the start of a message (a header announcing 100 bytes, and 10 of
    # them) on its socket to the scheduler, then goes quiet without closing it.
    stall = (
        "fd = int(sys.argv[-1])\n"
        "os.write(fd, (100).to_bytes(8, 'big') + bytes(10))\n"
        "time.sleep(600)"
    )
    _misbehave_once(tmp_path, monkeypatch, stall)
    runtime = LocalRuntime(tmp_path / "data", workers=2)
    runtime.start()
    runtime_factory.append(runtime)
    crn = runtime.default_instance.crn
    job_ids = [runtime.create_job(crn, "me", sampler_body(IDEAL))["id"] for _ in range(2)]
    for job_id in job_ids:
        assert runtime.wait_for_job(crn, job_id, WAIT)["state"]["status"] == "Completed"


def test_a_database_locked_by_another_process_does_not_hold_up_worker_replacement(
    tmp_path: Path, runtime_factory: list[LocalRuntime]
) -> None:
    import os
    import signal
    import sqlite3
    import time

    from jupyter_qrt.local.store.database import DB_FILENAME

    from .core_helpers import long_circuit

    runtime = LocalRuntime(tmp_path, workers=1)
    runtime.start()
    runtime_factory.append(runtime)
    crn = runtime.default_instance.crn
    scheduler = runtime._scheduler
    assert scheduler is not None
    running = runtime.create_job(crn, "me", sampler_body(IDEAL, long_circuit(), shots=1))["id"]
    queued = runtime.create_job(crn, "me", sampler_body(IDEAL))["id"]
    deadline = time.monotonic() + WAIT
    while runtime.job(crn, running)["state"]["status"] != "Running":
        assert time.monotonic() < deadline, "the long job never ran"
        time.sleep(0.02)
    (busy,) = scheduler.worker_pids()
    # Another process (a second service, a backup tool) holds the write lock for a while. The
    # worker running the long job dies meanwhile: its replacement must not wait for the lock.
    other = sqlite3.connect(tmp_path / DB_FILENAME, isolation_level=None)
    other.execute("BEGIN IMMEDIATE")
    replaced_while_locked = False
    try:
        os.kill(busy, signal.SIGKILL)
        lock_until = time.monotonic() + 8.0  # below the 10 s the service waits for a lock
        while time.monotonic() < lock_until:
            if scheduler.worker_pids() and busy not in scheduler.worker_pids():
                replaced_while_locked = True
                break
            time.sleep(0.05)
    finally:
        other.execute("ROLLBACK")
        other.close()
    assert replaced_while_locked, "the worker was replaced only after the lock was released"
    # Nothing was lost meanwhile: the dead worker's job failed, the queued one runs.
    details = runtime.wait_for_job(crn, running, WAIT)
    assert (details["state"]["status"], details["state"]["reason_code"]) == ("Failed", 1501)
    assert runtime.wait_for_job(crn, queued, WAIT)["state"]["status"] == "Completed"
