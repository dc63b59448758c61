"""The queue and the worker processes: order, cancellation, max execution time, restarts.

One worker, so that the queue is observable: a long job holds the worker while the others wait.
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import textwrap
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from jupyter_qrt.local.core import LocalRuntime
from jupyter_qrt.local.jobs.queue import REQUEUED_AFTER_STOP

from .core_helpers import (
    IDEAL,
    WAIT,
    bell,
    long_circuit,
    sampler_body,
    started_at,
    wait_status,
)

FINAL = ("Completed", "Failed", "Cancelled")


@pytest.fixture(scope="module")
def long_body() -> dict[str, Any]:
    return sampler_body(IDEAL, long_circuit(), shots=1)


@pytest.fixture
def runtime(tmp_path: Path) -> Iterator[LocalRuntime]:
    core = LocalRuntime(tmp_path, workers=1)
    core.start()
    yield core
    core.stop()


def test_jobs_run_in_submission_order_with_queue_positions(
    runtime: LocalRuntime, long_body: dict[str, Any]
) -> None:
    crn = runtime.default_instance.crn
    blocker = runtime.create_job(crn, "me", long_body)["id"]
    wait_status(runtime, crn, blocker, "Running")
    waiting = [runtime.create_job(crn, "me", sampler_body(IDEAL))["id"] for _ in range(3)]
    assert [runtime.job(crn, j)["queue_position"] for j in waiting] == [1, 2, 3]
    assert runtime.backend_status(crn, IDEAL)["length_queue"] == 3
    runtime.cancel_job(crn, blocker)
    for job_id in waiting:
        assert runtime.wait_for_job(crn, job_id, WAIT)["state"]["status"] == "Completed"
    starts = [started_at(runtime, crn, job_id) for job_id in waiting]
    assert starts == sorted(starts)
    assert runtime.backend_status(crn, IDEAL)["length_queue"] == 0


def test_dedicated_session_jobs_run_before_earlier_jobs(
    runtime: LocalRuntime, long_body: dict[str, Any]
) -> None:
    crn = runtime.default_instance.crn
    blocker = runtime.create_job(crn, "me", long_body)["id"]
    wait_status(runtime, crn, blocker, "Running")
    plain = runtime.create_job(crn, "me", sampler_body(IDEAL))["id"]
    session = runtime.create_session(crn, {"mode": "dedicated", "backend": IDEAL})["id"]
    in_session = runtime.create_job(crn, "me", sampler_body(IDEAL, session_id=session))["id"]
    assert runtime.job(crn, in_session)["queue_position"] == 1
    runtime.cancel_job(crn, blocker)
    for job_id in (plain, in_session):
        assert runtime.wait_for_job(crn, job_id, WAIT)["state"]["status"] == "Completed"
    assert started_at(runtime, crn, in_session) < started_at(runtime, crn, plain)


def test_every_log_line_of_a_completed_job_carries_one_timestamp(runtime: LocalRuntime) -> None:
    crn = runtime.default_instance.crn
    job_id = runtime.create_job(crn, "me", sampler_body(IDEAL))["id"]
    assert runtime.wait_for_job(crn, job_id, WAIT)["state"]["status"] == "Completed"
    lines = runtime.job_logs(crn, job_id).splitlines()
    stamp = r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z "
    # The run's own lines (e.g. "Sampling 1 pub(s) on ...") are stamped when they are logged.
    assert any("Sampling 1 pub(s)" in line for line in lines)
    for line in lines:
        assert re.match(stamp, line), line
        assert not re.match(stamp + stamp, line), line


def test_cancelling_a_running_job_stops_its_worker(
    runtime: LocalRuntime, long_body: dict[str, Any]
) -> None:
    crn = runtime.default_instance.crn
    job_id = runtime.create_job(crn, "me", long_body)["id"]
    wait_status(runtime, crn, job_id, "Running")
    scheduler = runtime._scheduler
    assert scheduler is not None
    busy_pid = scheduler.worker_pids()[0]
    runtime.cancel_job(crn, job_id)
    assert runtime.job(crn, job_id)["state"]["status"] == "Cancelled"
    deadline = time.monotonic() + 10
    while _alive(busy_pid):
        assert time.monotonic() < deadline, "the cancelled job's worker is still running"
        time.sleep(0.02)
    # A fresh worker takes the next job.
    after = runtime.create_job(crn, "me", sampler_body(IDEAL))["id"]
    assert runtime.wait_for_job(crn, after, WAIT)["state"]["status"] == "Completed"
    assert runtime.job(crn, job_id)["state"]["status"] == "Cancelled"


def test_a_worker_that_dies_fails_its_job_with_a_reason(
    runtime: LocalRuntime, long_body: dict[str, Any]
) -> None:
    crn = runtime.default_instance.crn
    job_id = runtime.create_job(crn, "me", long_body)["id"]
    wait_status(runtime, crn, job_id, "Running")
    scheduler = runtime._scheduler
    assert scheduler is not None
    os.kill(scheduler.worker_pids()[0], signal.SIGKILL)  # as the kernel's OOM killer would
    state = runtime.wait_for_job(crn, job_id, WAIT)["state"]
    assert state["status"] == "Failed"
    assert state["reason_code"] == 1501
    assert "stopped unexpectedly" in state["reason"]
    after = runtime.create_job(crn, "me", sampler_body(IDEAL))["id"]
    assert runtime.wait_for_job(crn, after, WAIT)["state"]["status"] == "Completed"


def test_a_job_past_its_cost_is_cancelled_with_1305(
    runtime: LocalRuntime, long_body: dict[str, Any]
) -> None:
    crn = runtime.default_instance.crn
    job_id = runtime.create_job(crn, "me", {**long_body, "cost": 1})["id"]
    details = runtime.wait_for_job(crn, job_id, WAIT)
    assert details["state"]["status"] == "Cancelled"
    assert details["state"]["reason_code"] == 1305
    assert details["status"] == "Cancelled - Ran too long"
    assert "max_execution_time" in details["state"]["reason"]
    # Charged exactly the time it was allowed, not the moments it took to stop it.
    assert details["usage"]["quantum_seconds"] == 1
    assert runtime.usage(crn)["usage_consumed_seconds"] == 1


def test_a_full_usage_limit_holds_queued_jobs_until_raised(
    runtime: LocalRuntime, long_body: dict[str, Any]
) -> None:
    crn = runtime.default_instance.crn
    course = runtime.create_instance("course")
    blocker = runtime.create_job(crn, "me", long_body)["id"]
    wait_status(runtime, crn, blocker, "Running")
    held = runtime.create_job(course.crn, "alice", sampler_body(IDEAL))["id"]
    behind = runtime.create_job(crn, "me", sampler_body(IDEAL))["id"]
    runtime.set_usage_limit(course.crn, 0)
    runtime.cancel_job(crn, blocker)
    # The other instance's later job runs; the held one waits for time to be made available.
    assert runtime.wait_for_job(crn, behind, WAIT)["state"]["status"] == "Completed"
    assert runtime.job(course.crn, held)["state"]["status"] == "Queued"
    runtime.set_usage_limit(course.crn, None)
    assert runtime.wait_for_job(course.crn, held, WAIT)["state"]["status"] == "Completed"


def test_a_stopped_service_runs_its_jobs_after_a_restart(
    tmp_path: Path, long_body: dict[str, Any]
) -> None:
    first = LocalRuntime(tmp_path, workers=1)
    first.start()
    crn = first.default_instance.crn
    # Long enough to be still Running at first.stop() on a loaded machine.
    running = first.create_job(crn, "me", {**long_body, "cost": 10})["id"]
    wait_status(first, crn, running, "Running")
    queued = [first.create_job(crn, "me", sampler_body(IDEAL))["id"] for _ in range(3)]
    first.stop()

    second = LocalRuntime(tmp_path, workers=1)
    second.start()
    try:
        for job_id in queued:
            assert second.wait_for_job(crn, job_id, WAIT)["state"]["status"] == "Completed"
        again = second.wait_for_job(crn, running, WAIT)
        # It ran again from the start, and was stopped at its max execution time again.
        assert again["state"]["reason_code"] == 1305
        assert "queued again" in second.job_logs(crn, running)
    finally:
        second.stop()


def test_after_a_crash_the_interrupted_jobs_are_queued_again_and_all_complete(
    tmp_path: Path,
) -> None:
    """kill -9 a service with jobs running and queued, start another: none is lost.

    The two Running at the kill are queued again once (one ``REQUEUED_AFTER_STOP`` log line);
    every job then completes with its shots.
    """
    from jupyter_qrt.runtime.wire.decoding import loads

    script = textwrap.dedent(
        """
        import json, sys, time
        from jupyter_qrt.local.core import LocalRuntime
        runtime = LocalRuntime(sys.argv[1], workers=2)
        runtime.start()
        crn = runtime.default_instance.crn
        bodies = json.loads(sys.stdin.read())
        ids = [runtime.create_job(crn, "me", body)["id"] for body in bodies]
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            states = [runtime.job(crn, job_id)["state"]["status"] for job_id in ids[:2]]
            if states == ["Running", "Running"]:
                break
            time.sleep(0.02)  # poll interval of the bounded wait above
        print(json.dumps({"ids": ids, "states": states}), flush=True)
        time.sleep(600)  # the crash under test: the parent SIGKILLs it here (bounded if orphaned)
        """
    )
    # A few seconds: both must still be Running when the SIGKILL comes, even on a loaded machine.
    medium = sampler_body(IDEAL, long_circuit(layers=50), shots=1)
    bodies = [medium, medium] + [sampler_body(IDEAL, bell(), shots=50) for _ in range(8)]
    process = subprocess.Popen(
        [sys.executable, "-c", script, str(tmp_path)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        listed = json.loads(_first_line(process, json.dumps(bodies)))
    finally:
        process.send_signal(signal.SIGKILL)  # no clean-up of any kind
        process.wait(timeout=10)

    ids = listed["ids"]
    assert listed["states"] == ["Running", "Running"], listed  # the two medium jobs
    survivor = LocalRuntime(tmp_path, workers=2)
    survivor.start()
    try:
        crn = survivor.default_instance.crn
        assert {job["id"] for job in survivor.jobs(crn)["jobs"]} == set(ids)
        for index, job_id in enumerate(ids):
            details = survivor.wait_for_job(crn, job_id, WAIT)
            # Interrupted once (fewer than MAX_ATTEMPTS times) or queued: each runs to the end.
            assert details["state"]["status"] == "Completed", details
            result = loads(survivor.job_results(crn, job_id))
            shots = 1 if index < 2 else 50
            assert sum(result[0].data.meas.get_counts().values()) == shots, job_id
            requeued = survivor.job_logs(crn, job_id).count(REQUEUED_AFTER_STOP)
            assert requeued == (1 if index < 2 else 0), (index, job_id)
    finally:
        survivor.stop()


def _first_line(process: subprocess.Popen[str], stdin_text: str) -> str:
    assert process.stdin is not None
    assert process.stdout is not None
    process.stdin.write(stdin_text)
    process.stdin.close()
    line = process.stdout.readline()
    assert line, "the service process ended before it listed its jobs"
    return line


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True
