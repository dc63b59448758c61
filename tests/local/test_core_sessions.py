"""Sessions and batches in the local runtime core (jobs stay queued: ``run_jobs=False``)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from jupyter_qrt.local.core import LocalRuntime, ServiceError

from .core_helpers import IDEAL, SMALL_DEVICE, cheap_body


class FakeClock:
    def __init__(self) -> None:
        self.now = 1_800_000_000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def runtime(tmp_path: Path, clock: FakeClock) -> Iterator[LocalRuntime]:
    core = LocalRuntime(tmp_path, clock=clock)
    core.start(run_jobs=False)
    yield core
    core.stop()


@pytest.fixture
def crn(runtime: LocalRuntime) -> str:
    return runtime.default_instance.crn


def test_a_new_session_is_open_and_has_the_details_the_client_reads(
    runtime: LocalRuntime, crn: str
) -> None:
    created = runtime.create_session(
        crn, {"mode": "dedicated", "backend": SMALL_DEVICE, "instance": crn, "max_ttl": 600}
    )
    details = runtime.session(crn, created["id"])
    assert details["id"] == created["id"]
    assert details["backend_name"] == SMALL_DEVICE
    assert details["mode"] == "dedicated"
    assert details["state"] == "open"
    assert details["accepting_jobs"] is True
    assert details["max_ttl"] == 600
    assert details["timestamps"][0]["status"] == "open"
    for key in ("interactive_ttl", "active_ttl", "started_at", "closed_at", "elapsed_time"):
        assert key in details


@pytest.mark.parametrize(
    ("body", "status"),
    [
        ({"mode": "party", "backend": SMALL_DEVICE}, 400),
        ({"mode": "batch"}, 400),
        ({"mode": "batch", "backend": "nowhere"}, 404),
        ({"mode": "batch", "backend": SMALL_DEVICE, "max_ttl": 0}, 400),
        ({"mode": "batch", "backend": SMALL_DEVICE, "instance": "crn:other"}, 400),
    ],
)
def test_a_bad_session_request_is_refused(
    runtime: LocalRuntime, crn: str, body: dict[str, object], status: int
) -> None:
    with pytest.raises(ServiceError) as refused:
        runtime.create_session(crn, body)
    assert refused.value.status == status


@pytest.mark.parametrize(
    "body",
    [
        {"mode": "party" * 10_000, "backend": SMALL_DEVICE},
        {"mode": ["batch"] * 10_000, "backend": SMALL_DEVICE},
        {"mode": "batch", "backend": SMALL_DEVICE, "max_ttl": "9" * 10_000},
        {"mode": "batch", "backend": SMALL_DEVICE, "max_ttl": -(10**5000)},
    ],
)
def test_a_huge_bad_value_is_not_echoed_back_whole(
    runtime: LocalRuntime, crn: str, body: dict[str, object]
) -> None:
    with pytest.raises(ServiceError) as refused:
        runtime.create_session(crn, body)
    assert refused.value.status == 400
    assert len(refused.value.message) < 300
    assert "got " in refused.value.message


def test_a_session_job_must_use_the_sessions_backend(runtime: LocalRuntime, crn: str) -> None:
    session = runtime.create_session(crn, {"mode": "batch", "backend": SMALL_DEVICE})["id"]
    with pytest.raises(ServiceError) as wrong:
        runtime.create_job(crn, "me", cheap_body(IDEAL, session_id=session))
    assert wrong.value.status == 400
    assert SMALL_DEVICE in wrong.value.message
    body = cheap_body(session_id=session)
    del body["backend"]  # the session says where
    created = runtime.create_job(crn, "me", body)
    assert created["backend"] == SMALL_DEVICE
    assert created["session_id"] == session


def test_not_accepting_jobs_refuses_new_ones_and_closes_when_the_last_ends(
    runtime: LocalRuntime, crn: str
) -> None:
    session = runtime.create_session(crn, {"mode": "dedicated", "backend": SMALL_DEVICE})["id"]
    job_id = runtime.create_job(crn, "me", cheap_body(session_id=session))["id"]
    runtime.update_session(crn, session, {"accepting_jobs": False})
    details = runtime.session(crn, session)
    assert details["accepting_jobs"] is False
    assert details["state"] == "pending_closed"
    with pytest.raises(ServiceError) as closed:
        runtime.create_job(crn, "me", cheap_body(session_id=session))
    assert closed.value.status == 409
    runtime.cancel_job(crn, job_id)
    assert runtime.session(crn, session)["state"] == "closed"
    with pytest.raises(ServiceError) as bad_update:
        runtime.update_session(crn, session, {"accepting": False})
    assert bad_update.value.status == 400


def test_closing_a_session_cancels_its_queued_jobs(runtime: LocalRuntime, crn: str) -> None:
    session = runtime.create_session(crn, {"mode": "batch", "backend": SMALL_DEVICE})["id"]
    jobs = [runtime.create_job(crn, "me", cheap_body(session_id=session))["id"] for _ in range(2)]
    outside = runtime.create_job(crn, "me", cheap_body())["id"]
    runtime.close_session(crn, session)
    for job_id in jobs:
        state = runtime.job(crn, job_id)["state"]
        assert state["status"] == "Cancelled"
        assert "session was closed" in state["reason"]
    assert runtime.job(crn, outside)["state"]["status"] == "Queued"
    details = runtime.session(crn, session)
    assert details["state"] == "closed"
    assert details["closed_at"] is not None
    assert [stamp["status"] for stamp in details["timestamps"]][-1] == "closed"
    with pytest.raises(ServiceError) as refused:
        runtime.create_job(crn, "me", cheap_body(session_id=session))
    assert refused.value.status == 409


def test_a_session_expires_after_max_ttl(runtime: LocalRuntime, crn: str, clock: FakeClock) -> None:
    session = runtime.create_session(
        crn, {"mode": "dedicated", "backend": SMALL_DEVICE, "max_ttl": 60}
    )["id"]
    job_id = runtime.create_job(crn, "me", cheap_body(session_id=session))["id"]
    clock.now += 61
    details = runtime.session(crn, session)
    assert details["state"] == "closed"
    assert details["accepting_jobs"] is False
    state = runtime.job(crn, job_id)["state"]
    assert state["status"] == "Cancelled"
    assert "max_ttl" in state["reason"]


def test_another_instances_session_is_invisible(runtime: LocalRuntime, crn: str) -> None:
    other = runtime.create_instance("other")
    session = runtime.create_session(crn, {"mode": "batch", "backend": SMALL_DEVICE})["id"]
    for call in (
        lambda: runtime.session(other.crn, session),
        lambda: runtime.update_session(other.crn, session, {"accepting_jobs": False}),
        lambda: runtime.close_session(other.crn, session),
        lambda: runtime.create_job(other.crn, "me", cheap_body(session_id=session)),
    ):
        with pytest.raises(ServiceError) as hidden:
            call()
        assert hidden.value.status == 404
    assert runtime.session(crn, session)["state"] == "open"


def test_sessions_survive_a_restart(tmp_path: Path) -> None:
    first = LocalRuntime(tmp_path)
    first.start(run_jobs=False)
    crn = first.default_instance.crn
    session = first.create_session(crn, {"mode": "batch", "backend": SMALL_DEVICE})["id"]
    first.stop()
    second = LocalRuntime(tmp_path)
    second.start(run_jobs=False)
    try:
        assert second.session(crn, session)["mode"] == "batch"
    finally:
        second.stop()


def test_a_session_idle_for_its_interactive_ttl_becomes_inactive_and_loses_its_priority(
    runtime: LocalRuntime, crn: str, clock: FakeClock
) -> None:
    session = runtime.create_session(
        crn, {"mode": "dedicated", "backend": IDEAL, "max_ttl": 3600, "interactive_ttl": 30}
    )["id"]
    first = runtime.create_job(crn, "me", cheap_body(IDEAL, session_id=session))["id"]
    claimed = runtime._queue.claim_next("worker-0")
    assert claimed is not None
    assert claimed.job_id == first
    assert runtime.session(crn, session)["state"] == "active"
    clock.now += 1
    runtime._queue.fail(first, 1517, "bad pub")
    # Idle, but within interactive_ttl: the session keeps the device.
    clock.now += 29
    assert runtime.session(crn, session)["state"] == "active"
    outside = runtime.create_job(crn, "me", cheap_body(IDEAL))["id"]
    held = runtime.create_job(crn, "me", cheap_body(IDEAL, session_id=session))["id"]
    assert runtime.job(crn, held)["queue_position"] == 1  # ahead of the job outside
    runtime.cancel_job(crn, held)
    # interactive_ttl seconds with no job: inactive, as IBM's sessions.
    clock.now += 30
    details = runtime.session(crn, session)
    assert details["state"] == "inactive"
    assert details["accepting_jobs"] is True
    assert details["timestamps"][-1]["status"] == "inactive"
    # Its next job waits in the queue like any other.
    later = runtime.create_job(crn, "me", cheap_body(IDEAL, session_id=session))["id"]
    assert runtime.job(crn, later)["queue_position"] == 2
    assert runtime.job(crn, outside)["queue_position"] == 1
    assert runtime.session(crn, session)["state"] == "inactive"
    # Once that job runs, the session is active again.
    runtime._queue.claim_next("worker-0")
    claimed = runtime._queue.claim_next("worker-0")
    assert claimed is not None
    assert claimed.job_id == later
    assert runtime.session(crn, session)["state"] == "active"
