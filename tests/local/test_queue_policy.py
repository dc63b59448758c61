"""Which job runs next across devices, jobs held by a usage limit, and what runs are charged.

One worker, so that the order of claims is observable: a long job holds the worker while the
others queue up, then it is cancelled and the rest run one at a time. The queued jobs are cheap
(their pub is bad, so they fail at once): only the order they start in matters here.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from jupyter_qrt.local.core import LocalRuntime
from jupyter_qrt.local.devices import DeviceCatalog, builtin_catalog
from jupyter_qrt.local.jobs.queue import MAX_ATTEMPTS
from jupyter_qrt.local.store.usage import limit_reached

from .core_helpers import (
    IDEAL,
    SMALL_DEVICE,
    WAIT,
    cheap_body,
    long_circuit,
    sampler_body,
    started_at,
    wait_status,
)


@pytest.fixture(scope="module")
def long_body() -> dict[str, Any]:
    return sampler_body(IDEAL, long_circuit(), shots=1)


@pytest.fixture
def runtime(tmp_path: Path) -> Iterator[LocalRuntime]:
    core = LocalRuntime(tmp_path, workers=1)
    core.start()
    yield core
    core.stop()


# ------------------------------------------------------------------------ fair across devices
def test_a_job_on_an_idle_device_waits_one_turn_not_behind_every_other_device(
    runtime: LocalRuntime, long_body: dict[str, Any]
) -> None:
    crn = runtime.default_instance.crn
    blocker = runtime.create_job(crn, "me", long_body)["id"]
    wait_status(runtime, crn, blocker, "Running")
    busy = [runtime.create_job(crn, "me", cheap_body(IDEAL))["id"] for _ in range(3)]
    idle = runtime.create_job(crn, "me", cheap_body(SMALL_DEVICE))["id"]
    # What a client sees (and least_busy reads): first in an empty queue.
    assert runtime.job(crn, idle)["queue_position"] == 1
    assert runtime.backend_status(crn, SMALL_DEVICE)["length_queue"] == 1
    assert runtime.backend_status(crn, IDEAL)["length_queue"] == 3
    runtime.cancel_job(crn, blocker)
    # ... and it is true: at most one job of the busy device starts before it.
    assert started_at(runtime, crn, idle) < started_at(runtime, crn, busy[1])
    starts = [started_at(runtime, crn, job_id) for job_id in busy]
    assert starts == sorted(starts)  # still FIFO on each device


def test_dedicated_session_jobs_go_first_across_devices(
    runtime: LocalRuntime, long_body: dict[str, Any]
) -> None:
    crn = runtime.default_instance.crn
    blocker = runtime.create_job(crn, "me", long_body)["id"]
    wait_status(runtime, crn, blocker, "Running")
    # Round-robin alone would serve the other device next; the session's job goes first.
    plain = runtime.create_job(crn, "me", cheap_body(SMALL_DEVICE))["id"]
    session = runtime.create_session(crn, {"mode": "dedicated", "backend": IDEAL})["id"]
    in_session = runtime.create_job(crn, "me", cheap_body(IDEAL, session_id=session))["id"]
    runtime.cancel_job(crn, blocker)
    assert started_at(runtime, crn, in_session) < started_at(runtime, crn, plain)


# ------------------------------------------------------------------ held by a usage limit
def test_jobs_held_by_a_usage_limit_say_why_and_leave_the_queue(
    runtime: LocalRuntime,
    long_body: dict[str, Any],
    caplog: pytest.LogCaptureFixture,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    caplog.set_level(logging.WARNING, logger="jupyter_qrt.local.jobs.queue")
    crn = runtime.default_instance.crn
    course = runtime.create_instance("course")
    blocker = runtime.create_job(crn, "me", long_body)["id"]
    wait_status(runtime, crn, blocker, "Running")
    held = runtime.create_job(course.crn, "alice", sampler_body(IDEAL))["id"]
    behind = runtime.create_job(crn, "me", cheap_body(IDEAL))["id"]
    assert runtime.job(crn, behind)["queue_position"] == 2

    runtime.set_usage_limit(course.crn, 0)
    details = runtime.job(course.crn, held)
    assert details["state"]["status"] == "Queued"
    assert "queue_position" not in details
    reason = details["state"]["reason"]
    assert "'course' has reached its usage limit" in reason
    assert "set-limit" in reason
    assert "reset-usage" in reason
    listed = runtime.jobs(course.crn)["jobs"][0]
    assert listed["state"]["reason"] == reason
    # It no longer counts in front of others, nor in the device's queue.
    assert runtime.job(crn, behind)["queue_position"] == 1
    assert runtime.backend_status(crn, IDEAL)["length_queue"] == 1
    queues = {d["name"]: d["queue_length"] for d in runtime.backends(crn)["devices"]}
    assert queues[IDEAL] == 1

    runtime.cancel_job(crn, blocker)
    runtime.wait_for_job(crn, behind, WAIT)
    first = _held_records(caplog, WAIT)[0]
    # Two more checks for held jobs (one per scheduler round) add no second line.
    checks = _count_calls(monkeypatch, runtime._queue, "note_held")
    checks.wait_for(2, WAIT)
    assert len(_held_records(caplog, 0)) == 1
    assert "'course'" in first.getMessage()
    assert "set-limit" in first.getMessage()
    assert runtime.job(course.crn, held)["state"]["status"] == "Queued"

    runtime.set_usage_limit(course.crn, 60)
    details = runtime.wait_for_job(course.crn, held, WAIT)
    assert details["state"]["status"] == "Completed"
    assert "reason" not in details["state"]


def test_the_usage_limit_rule_holds_jobs_in_details_and_lists_alike(tmp_path: Path) -> None:
    runtime = LocalRuntime(tmp_path)
    runtime.start(run_jobs=False)  # jobs stay Queued
    try:
        crn = runtime.default_instance.crn
        course = runtime.create_instance("course", usage_limit_seconds=10)
        held = runtime.create_job(course.crn, "alice", cheap_body())["id"]
        other = runtime.create_job(crn, "me", cheap_body())["id"]
        assert runtime.job(crn, other)["queue_position"] == 2
        with runtime._store.reading() as conn:
            assert limit_reached(conn, course.crn) is None  # below its limit
            assert limit_reached(conn, crn) is None  # no limit
            assert limit_reached(conn, "crn:nowhere") is None
        runtime.set_usage_limit(course.crn, 0)
        with runtime._store.reading() as conn:
            assert limit_reached(conn, course.crn) == ("course", 0.0)
        details = runtime.job(course.crn, held)
        (listed,) = runtime.jobs(course.crn)["jobs"]
        for job in (details, listed):
            assert "queue_position" not in job
            assert "'course' has reached its usage limit of 0 s" in job["state"]["reason"]
        assert runtime.job(crn, other)["queue_position"] == 1
        assert runtime.jobs(crn)["jobs"][0]["queue_position"] == 1
    finally:
        runtime.stop()


class _Calls:
    """How many times a method was called since it was wrapped; a waiter can wait for a count."""

    def __init__(self) -> None:
        self.count = 0
        self.changed = threading.Condition()

    def wait_for(self, count: int, timeout: float) -> None:
        with self.changed:
            reached = self.changed.wait_for(lambda: self.count >= count, timeout)
        assert reached, f"called {self.count} times within {timeout}s, not {count}"


def _count_calls(patch: pytest.MonkeyPatch, obj: Any, name: str) -> _Calls:
    """Wrap ``obj.name`` (for this test) so that its calls are counted."""
    calls = _Calls()
    original = getattr(obj, name)

    def counted(*args: Any, **kwargs: Any) -> Any:
        try:
            return original(*args, **kwargs)
        finally:
            with calls.changed:
                calls.count += 1
                calls.changed.notify_all()

    patch.setattr(obj, name, counted)
    return calls


def _held_records(caplog: pytest.LogCaptureFixture, timeout: float) -> list[logging.LogRecord]:
    deadline = time.monotonic() + timeout
    while True:
        found = [r for r in caplog.records if "are held" in r.getMessage()]
        if found or time.monotonic() >= deadline:
            assert found, "no log line says that the instance's jobs are held"
            return found
        time.sleep(0.05)


# ---------------------------------------------------------------------------------- charging
def test_a_job_failed_by_validation_is_charged_nothing(runtime: LocalRuntime) -> None:
    course = runtime.create_instance("course", usage_limit_seconds=100)
    job_id = runtime.create_job(course.crn, "alice", cheap_body())["id"]
    details = runtime.wait_for_job(course.crn, job_id, WAIT)
    assert details["state"]["status"] == "Failed"
    assert details["state"]["reason_code"] == 1517
    assert details["usage"]["quantum_seconds"] == 0
    assert runtime.job_metrics(course.crn, job_id)["bss"]["seconds"] == 0
    assert runtime.usage(course.crn)["usage_consumed_seconds"] == 0


def test_a_job_whose_device_is_gone_is_charged_nothing(tmp_path: Path) -> None:
    first = LocalRuntime(tmp_path)
    first.start(run_jobs=False)  # queued, not run
    course = first.create_instance("course", usage_limit_seconds=100)
    job_id = first.create_job(course.crn, "alice", sampler_body(SMALL_DEVICE))["id"]
    first.stop()

    only_ideal = DeviceCatalog.from_devices([builtin_catalog().get(IDEAL)])
    second = LocalRuntime(tmp_path, catalog=only_ideal, workers=1)
    second.start()
    try:
        details = second.wait_for_job(course.crn, job_id, WAIT)
        assert details["state"]["status"] == "Failed"
        assert details["state"]["reason_code"] == 1503
        assert details["usage"]["quantum_seconds"] == 0
        assert second.usage(course.crn)["usage_consumed_seconds"] == 0
    finally:
        second.stop()


def test_a_job_interrupted_too_often_fails_uncharged_and_its_session_hears_of_it(
    tmp_path: Path,
) -> None:
    first = LocalRuntime(tmp_path)
    first.start(run_jobs=False)
    crn = first.default_instance.crn
    session = first.create_session(crn, {"mode": "batch", "backend": SMALL_DEVICE})["id"]
    job_id = first.create_job(crn, "me", cheap_body(session_id=session))["id"]
    # As if every one of its runs had been interrupted by a stop of the service.
    with first._store.transaction() as conn:
        conn.execute(
            "UPDATE jobs SET status = 'Running', running = ?, attempts = ? WHERE id = ?",
            (time.time() - 100, MAX_ATTEMPTS, job_id),
        )
    first.stop()

    second = LocalRuntime(tmp_path, workers=1)
    second.start()
    try:
        details = second.job(crn, job_id)
        assert details["state"]["status"] == "Failed"
        assert details["state"]["reason_code"] == 1502
        assert f"stopped {MAX_ATTEMPTS} times" in details["state"]["reason"]
        assert details["usage"]["quantum_seconds"] == 0
        assert second.usage(crn)["usage_consumed_seconds"] == 0
        assert second.job_metrics(crn, job_id)["timestamps"]["finished"] is not None
        assert f"stopped {MAX_ATTEMPTS} times" in second.job_logs(crn, job_id)
        assert second.session(crn, session)["last_job_completed"] is not None
    finally:
        second.stop()
