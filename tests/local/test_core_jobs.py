"""Jobs in the local runtime core, without running them: checks, listing, paging, cancel, tags.

The core is started with ``run_jobs=False`` so that jobs stay Queued; running them is tested in
``test_core_lifecycle.py`` and ``test_scheduler.py``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from jupyter_qrt.local.core import LocalRuntime, ServiceError

from .core_helpers import IDEAL, SMALL_DEVICE, cheap_body


class FakeClock:
    """A clock the test moves by hand."""

    def __init__(self, start: float = 1_800_000_000.0) -> None:
        self.now = start

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def runtime(tmp_path: Path, clock: FakeClock) -> Iterator[LocalRuntime]:
    core = LocalRuntime(tmp_path, clock=clock, max_body_bytes=10_000)
    core.start(run_jobs=False)
    yield core
    core.stop()


@pytest.fixture
def crn(runtime: LocalRuntime) -> str:
    return runtime.default_instance.crn


def _status(error: pytest.ExceptionInfo[ServiceError]) -> int:
    return error.value.status


# ------------------------------------------------------------------------------------ create
def _executor(**change: Any) -> dict[str, Any]:
    """The outline of executor params (not runnable: no circuits), with ``change`` applied to
    the quantum program, or to the params for ``schema_version`` and ``options``."""
    program: dict[str, Any] = {
        "shots": 10,
        "circuits": {},
        "items": [{"item_type": "circuit", "shape": []}],
    }
    params: dict[str, Any] = {"schema_version": "v2.0", "quantum_program": program, "options": {}}
    for key, value in change.items():
        (params if key in ("schema_version", "options") else program)[key] = value
    return params


@pytest.mark.parametrize(
    ("change", "status"),
    [
        (lambda b: b.update(program_id="runner"), 404),
        # executor: sampler params are not a ParamsModel; then outline faults of a ParamsModel
        (lambda b: b.update(program_id="executor"), 400),
        (lambda b: b.update(program_id="executor", params=_executor(schema_version="v1.1")), 400),
        (lambda b: b.update(program_id="executor", params=_executor(shots=0)), 400),
        (lambda b: b.update(program_id="executor", params=_executor(items=[])), 400),
        (lambda b: b.update(program_id="executor", params=_executor(items=[{}])), 400),
        (lambda b: b.update(program_id="executor", params=_executor(meas_level="both")), 400),
        (lambda b: b.update(program_id="executor", params=_executor(options=None)), 400),
        (  # a whole-number chunk size outside a session (IBM allows it in sessions only)
            lambda b: b.update(
                program_id="executor",
                params=_executor(items=[{"item_type": "circuit", "shape": [], "chunk_size": 2}]),
            ),
            400,
        ),
        (lambda b: b.pop("program_id"), 400),
        (lambda b: b.pop("backend"), 400),
        (lambda b: b.update(backend="nowhere"), 404),
        (lambda b: b.update(params="pubs"), 400),
        (lambda b: b.update(params={"options": {}}), 400),
        (lambda b: b.update(params={"pubs": []}), 400),
        (lambda b: b.update(tags=[f"t{i}" for i in range(9)]), 400),
        (lambda b: b.update(tags="one"), 400),
        (lambda b: b.update(cost=0), 400),
        (lambda b: b.update(cost=10_801), 400),
        (lambda b: b.update(cost=1.5), 400),
        (lambda b: b.update(log_level="LOUD"), 400),
        (lambda b: b.update(session_id="nope"), 404),
        (lambda b: b["params"].update(padding="x" * 20_000), 413),
        (lambda b: b["params"].update(options={"default_shots": 10**400}), 400),
        (lambda b: b["params"].update(options={"default_shots": 0}), 400),
        (lambda b: b["params"].update(options={"default_shots": "many"}), 400),
        (lambda b: b["params"]["pubs"][0].__setitem__(2, 10**400), 400),
        (lambda b: b["params"]["pubs"][0].__setitem__(2, 0), 400),
        (
            lambda b: b.update(
                program_id="estimator", params={"pubs": [["c", "o", None, 10**400]]}
            ),
            400,
        ),
    ],
)
def test_a_bad_job_request_is_refused_and_stores_nothing(
    runtime: LocalRuntime, crn: str, change: Callable[[dict[str, Any]], object], status: int
) -> None:
    body = cheap_body()
    change(body)
    with pytest.raises(ServiceError) as refused:
        runtime.create_job(crn, "me", body)
    assert _status(refused) == status
    assert refused.value.message
    assert "Traceback" not in refused.value.message
    assert runtime.jobs(crn)["count"] == 0


@pytest.mark.parametrize(
    "change",
    [
        lambda b: b.update(cost=10**5000),  # repr() refuses ints of over 4300 digits
        lambda b: b.update(cost=-(10**400)),
        lambda b: b.update(cost="9" * 10_000),
        lambda b: b.update(log_level="LOUD" * 10_000),
        lambda b: b.update(log_level=["INFO"] * 10_000),
    ],
)
def test_a_huge_bad_value_is_not_echoed_back_whole(
    runtime: LocalRuntime, crn: str, change: Callable[[dict[str, Any]], object]
) -> None:
    body = cheap_body()
    change(body)
    with pytest.raises(ServiceError) as refused:
        runtime.create_job(crn, "me", body)
    assert _status(refused) == 400
    assert len(refused.value.message) < 300
    assert "got " in refused.value.message


def test_a_body_that_is_not_an_object_is_a_400(runtime: LocalRuntime, crn: str) -> None:
    with pytest.raises(ServiceError) as refused:
        runtime.create_job(crn, "me", ["sampler"])  # type: ignore[arg-type]
    assert _status(refused) == 400


def test_a_created_job_is_queued_with_the_details_the_client_reads(
    runtime: LocalRuntime, crn: str
) -> None:
    created = runtime.create_job(
        crn, "alice", cheap_body(tags=["a", "b"], cost=120, private=True), caller="qiskit/test"
    )
    assert set(created) >= {"id", "backend"}
    assert created["backend"] == SMALL_DEVICE
    details = runtime.job(crn, created["id"])
    assert details["state"] == {"status": "Queued"}
    assert details["status"] == "Queued"
    assert details["program"] == {"id": "sampler"}
    assert details["created"].endswith("Z")
    assert details["cost"] == 120
    assert details["tags"] == ["a", "b"]
    assert details["user_id"] == "alice"
    assert details["private"] is True
    assert details["session_id"] is None
    assert details["usage"]["status"] == "pending"
    assert details["estimated_running_time_seconds"] > 0
    assert details["queue_position"] == 1
    assert "params" not in details
    # A private job's params are never returned (as IBM's); a public job's are, when asked.
    assert "params" not in runtime.job(crn, created["id"], exclude_params=False)
    public = runtime.create_job(crn, "alice", cheap_body())["id"]
    with_params = runtime.job(crn, public, exclude_params=False)
    assert with_params["params"]["pubs"] == cheap_body()["params"]["pubs"]
    metrics = runtime.job_metrics(crn, created["id"])
    assert metrics["timestamps"]["created"] == details["created"]
    assert metrics["timestamps"]["running"] is None
    assert metrics["caller"] == "qiskit/test"
    assert "Queued on qrt_wren" in runtime.job_logs(crn, created["id"])


def test_another_instances_jobs_are_invisible(runtime: LocalRuntime, crn: str) -> None:
    other = runtime.create_instance("other")
    job_id = runtime.create_job(crn, "me", cheap_body())["id"]
    for call in (
        lambda: runtime.job(other.crn, job_id),
        lambda: runtime.job_results(other.crn, job_id),
        lambda: runtime.job_metrics(other.crn, job_id),
        lambda: runtime.job_logs(other.crn, job_id),
        lambda: runtime.cancel_job(other.crn, job_id),
        lambda: runtime.delete_job(other.crn, job_id),
        lambda: runtime.replace_job_tags(other.crn, job_id, ["x"]),
    ):
        with pytest.raises(ServiceError) as hidden:
            call()
        assert _status(hidden) == 404
    assert runtime.jobs(other.crn)["count"] == 0
    assert runtime.job(crn, job_id)["state"]["status"] == "Queued"


# ----------------------------------------------------------------------------- queue order
def test_queue_positions_are_fifo_per_device(runtime: LocalRuntime, crn: str) -> None:
    first = runtime.create_job(crn, "me", cheap_body())["id"]
    elsewhere = runtime.create_job(crn, "me", cheap_body(IDEAL))["id"]
    second = runtime.create_job(crn, "me", cheap_body())["id"]
    assert runtime.job(crn, first)["queue_position"] == 1
    assert runtime.job(crn, second)["queue_position"] == 2
    assert runtime.job(crn, elsewhere)["queue_position"] == 1
    runtime.cancel_job(crn, first)
    assert runtime.job(crn, second)["queue_position"] == 1
    assert "queue_position" not in runtime.job(crn, first)


def test_dedicated_session_jobs_go_first_and_batch_jobs_wait_their_turn(
    runtime: LocalRuntime, crn: str
) -> None:
    plain = runtime.create_job(crn, "me", cheap_body())["id"]
    batch = runtime.create_session(crn, {"mode": "batch", "backend": SMALL_DEVICE})["id"]
    in_batch = runtime.create_job(crn, "me", cheap_body(session_id=batch))["id"]
    session = runtime.create_session(crn, {"mode": "dedicated", "backend": SMALL_DEVICE})["id"]
    in_session = runtime.create_job(crn, "me", cheap_body(session_id=session))["id"]
    assert runtime.job(crn, in_session)["queue_position"] == 1
    assert runtime.job(crn, plain)["queue_position"] == 2
    assert runtime.job(crn, in_batch)["queue_position"] == 3
    assert runtime.job(crn, in_session)["session_id"] == session


# ----------------------------------------------------------------------------- cancel etc.
def test_cancelling_a_queued_job_ends_it_and_a_final_job_cannot_be_cancelled(
    runtime: LocalRuntime, crn: str
) -> None:
    job_id = runtime.create_job(crn, "me", cheap_body())["id"]
    runtime.cancel_job(crn, job_id)
    details = runtime.job(crn, job_id)
    assert details["state"]["status"] == "Cancelled"
    assert details["usage"]["status"] == "complete"
    assert runtime.job_metrics(crn, job_id)["timestamps"]["finished"] is not None
    with pytest.raises(ServiceError) as final:
        runtime.cancel_job(crn, job_id)
    assert _status(final) == 409
    assert "Cancelled" in runtime.job_results(crn, job_id)


def test_results_of_a_pending_job_are_a_409(runtime: LocalRuntime, crn: str) -> None:
    job_id = runtime.create_job(crn, "me", cheap_body())["id"]
    with pytest.raises(ServiceError) as pending:
        runtime.job_results(crn, job_id)
    assert _status(pending) == 409


def test_a_deleted_job_is_gone(runtime: LocalRuntime, crn: str) -> None:
    job_id = runtime.create_job(crn, "me", cheap_body())["id"]
    runtime.delete_job(crn, job_id)
    with pytest.raises(ServiceError) as gone:
        runtime.job(crn, job_id)
    assert _status(gone) == 404
    assert runtime.jobs(crn)["count"] == 0
    assert runtime.backend_status(crn, SMALL_DEVICE)["length_queue"] == 0


def test_tags_are_replaced_and_checked(runtime: LocalRuntime, crn: str) -> None:
    job_id = runtime.create_job(crn, "me", cheap_body(tags=["old"]))["id"]
    runtime.replace_job_tags(crn, job_id, ["new", "also"])
    assert runtime.job(crn, job_id)["tags"] == ["new", "also"]
    with pytest.raises(ServiceError) as too_many:
        runtime.replace_job_tags(crn, job_id, [str(i) for i in range(9)])
    assert _status(too_many) == 400
    assert runtime.job(crn, job_id)["tags"] == ["new", "also"]


# --------------------------------------------------------------------------- list and page
def test_pages_add_up_to_count_newest_first(runtime: LocalRuntime, crn: str) -> None:
    ids = [runtime.create_job(crn, "me", cheap_body())["id"] for _ in range(7)]
    seen: list[str] = []
    offset = 0
    while True:
        page = runtime.jobs(crn, limit=3, offset=offset)
        assert page["count"] == 7
        if not page["jobs"]:
            break
        seen += [job["id"] for job in page["jobs"]]
        offset += len(page["jobs"])
    assert seen == ids[::-1]
    ascending = runtime.jobs(crn, ascending=True)
    assert [job["id"] for job in ascending["jobs"]] == ids
    assert runtime.jobs(crn, limit=1000)["limit"] == 200


def test_filters_narrow_the_count_too(runtime: LocalRuntime, crn: str, clock: FakeClock) -> None:
    early = runtime.create_job(crn, "me", cheap_body(tags=["x", "y"]))["id"]
    clock.now += 3600
    late = runtime.create_job(crn, "me", cheap_body(IDEAL, tags=["x"]))["id"]
    runtime.cancel_job(crn, late)
    session = runtime.create_session(crn, {"mode": "batch", "backend": SMALL_DEVICE})["id"]
    in_session = runtime.create_job(crn, "me", cheap_body(session_id=session))["id"]

    def ids(**filters: Any) -> set[str]:
        page = runtime.jobs(crn, **filters)
        assert page["count"] == len(page["jobs"])
        return {job["id"] for job in page["jobs"]}

    assert ids(backend=IDEAL) == {late}
    assert ids(pending=True) == {early, in_session}
    assert ids(pending=False) == {late}
    assert ids(tags=["x"]) == {early, late}
    assert ids(tags=["x", "y"]) == {early}
    assert ids(program="estimator") == set()
    assert ids(session_id=session) == {in_session}
    midway = clock.now - 1800
    assert ids(created_after=midway) == {late, in_session}
    assert ids(created_before=midway) == {early}
    with pytest.raises(ServiceError) as bad_date:
        runtime.jobs(crn, created_after="yesterday")
    assert _status(bad_date) == 400
    with pytest.raises(ServiceError) as bad_limit:
        runtime.jobs(crn, limit=-1)
    assert _status(bad_limit) == 400
