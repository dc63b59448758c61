"""Every runtime endpoint of RuntimeAPI, against the fake IBM cloud."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from jupyter_qrt.runtime.errors import (
    APIError,
    BackendNotFoundError,
    ForbiddenError,
    InvalidInputError,
    InvalidStateError,
    JobNotFoundError,
    NotFoundError,
    SessionNotFoundError,
)
from jupyter_qrt.runtime.http.auth import IAMAuth, RuntimeAuth
from jupyter_qrt.runtime.http.rest import RuntimeAPI
from jupyter_qrt.runtime.http.transport import Transport

from .conftest import SleepRecorder
from .fake_ibm import FakeIBMCloud

JOB = {"program_id": "sampler", "backend": "fake_manila", "params": {}}


def _bell_sampler_job(shots: int = 200) -> str:
    """A Sampler job body exactly as the official client encodes it."""
    import numpy as np
    from qiskit import QuantumCircuit
    from qiskit_ibm_runtime import RuntimeEncoder

    circuit = QuantumCircuit(2)
    circuit.h(0)
    circuit.cx(0, 1)
    circuit.measure_all()
    params = {
        "pubs": [[circuit, np.array([], dtype=float), shots]],
        "options": {},
        "version": 2,
        "support_qiskit": True,
    }
    body = {"program_id": "sampler", "backend": "fake_manila", "params": params}
    return json.dumps(body, cls=RuntimeEncoder)


def _decode(text: str) -> Any:
    from qiskit_ibm_runtime import RuntimeDecoder

    return json.loads(text, cls=RuntimeDecoder)


def _run_to_the_end(api: RuntimeAPI, job_id: str) -> dict[str, Any]:
    for _ in range(10):
        details = api.job(job_id)
        if details["state"]["status"] in ("Completed", "Failed", "Cancelled"):
            return details
    raise AssertionError("the job never ended")


# -- backends and usage ---------------------------------------------------------------------------


def test_backends_lists_the_devices_with_status_and_queue(runtime_api: RuntimeAPI) -> None:
    devices = {d["name"]: d for d in runtime_api.backends()}

    assert set(devices) == {"fake_manila", "fake_lima"}
    assert devices["fake_lima"]["queue_length"] == 3
    assert devices["fake_manila"]["status"]["name"] == "online"
    assert devices["fake_manila"]["qubits"] == 5


def test_backends_can_ask_for_mock_devices(fake_ibm: FakeIBMCloud, runtime_api: RuntimeAPI) -> None:
    runtime_api.backends(include_mocks=True)

    assert fake_ibm.calls_to("GET", "/api/v1/backends")[0].query == {"include_mocks": ["true"]}


def test_backend_configuration_properties_and_status(
    fake_ibm: FakeIBMCloud, runtime_api: RuntimeAPI
) -> None:
    fake_ibm.set_backend("fake_manila", status="paused", queue_length=4)

    configuration = runtime_api.backend_configuration("fake_manila")
    properties = runtime_api.backend_properties(
        "fake_manila", updated_before=datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)
    )
    status = runtime_api.backend_status("fake_manila")

    assert configuration["n_qubits"] == 5
    assert configuration["backend_name"] == "fake_manila"
    assert properties is not None
    assert len(properties["qubits"]) == 5
    assert properties["backend_name"] == "fake_manila"
    assert fake_ibm.calls_to("GET", ".*/properties")[0].query == {
        "updated_before": ["2026-01-02T03:04:05+00:00"]
    }
    assert status["state"] is False
    assert status["status"] == "paused"
    assert status["length_queue"] == 4


@pytest.mark.parametrize(
    "endpoint", ["backend_configuration", "backend_properties", "backend_status"]
)
def test_an_unknown_backend_is_named_in_the_error(runtime_api: RuntimeAPI, endpoint: str) -> None:
    with pytest.raises(BackendNotFoundError, match="No backend named 'ibm_nowhere'"):
        getattr(runtime_api, endpoint)("ibm_nowhere")


def test_usage_of_the_instance(fake_ibm: FakeIBMCloud, runtime_api: RuntimeAPI) -> None:
    usage = runtime_api.usage()

    assert usage["instance_id"] == fake_ibm.crn
    assert usage["usage_limit_reached"] is False
    assert usage["usage_consumed_seconds"] == 12


def test_the_regional_host_serves_its_region_only(
    fake_ibm: FakeIBMCloud, no_sleep: SleepRecorder
) -> None:
    iam = IAMAuth(fake_ibm.api_key, fake_ibm.iam_url)
    eu = RuntimeAPI(
        Transport(fake_ibm.eu_runtime_url, auth=RuntimeAuth(iam, fake_ibm.eu_crn), sleep=no_sleep)
    )
    wrong = RuntimeAPI(
        Transport(fake_ibm.eu_runtime_url, auth=RuntimeAuth(iam, fake_ibm.crn), sleep=no_sleep)
    )

    assert eu.usage()["instance_id"] == fake_ibm.eu_crn
    with pytest.raises(ForbiddenError):
        wrong.usage()


# -- jobs -----------------------------------------------------------------------------------------


def test_a_sampler_job_runs_and_its_result_decodes_to_real_counts(
    fake_ibm: FakeIBMCloud, runtime_api: RuntimeAPI
) -> None:
    job = runtime_api.create_job(_bell_sampler_job(shots=200))

    statuses = [runtime_api.job(job["id"])["state"]["status"] for _ in range(2)]
    result = _decode(runtime_api.job_results(job["id"]))

    assert job["backend"] == "fake_manila"
    assert statuses == ["Running", "Completed"]
    counts = result[0].data.meas.get_counts()
    assert set(counts) <= {"00", "11"}
    assert sum(counts.values()) == 200
    assert fake_ibm.count("POST", "/api/v1/jobs") == 1


def test_an_estimator_job_gives_real_expectation_values(runtime_api: RuntimeAPI) -> None:
    import numpy as np
    from qiskit import QuantumCircuit
    from qiskit_ibm_runtime import RuntimeEncoder

    circuit = QuantumCircuit(2)
    circuit.h(0)
    circuit.cx(0, 1)
    params = {"pubs": [[circuit, {"ZZ": 1.0, "XX": 1.0}, np.array([], dtype=float), None]]}
    body = json.dumps(
        {"program_id": "estimator", "backend": "fake_manila", "params": params}, cls=RuntimeEncoder
    )

    job = runtime_api.create_job(body)
    _run_to_the_end(runtime_api, job["id"])

    assert float(_decode(runtime_api.job_results(job["id"]))[0].data.evs) == pytest.approx(2.0)


def test_job_details_with_and_without_params(runtime_api: RuntimeAPI) -> None:
    job = runtime_api.create_job(JOB | {"tags": ["t1"]})

    short = runtime_api.job(job["id"])
    full = runtime_api.job(job["id"], exclude_params=False)

    assert "params" not in short
    assert full["params"] == {}
    assert short["program"]["id"] == "sampler"
    assert short["tags"] == ["t1"]


def test_an_unknown_job_is_named_in_the_error(runtime_api: RuntimeAPI) -> None:
    for call in (
        runtime_api.job,
        runtime_api.job_results,
        runtime_api.cancel_job,
        runtime_api.delete_job,
        runtime_api.job_metrics,
    ):
        with pytest.raises(JobNotFoundError, match="Job 'nope-123' was not found"):
            call("nope-123")


def test_an_id_with_a_slash_cannot_reach_another_path(
    fake_ibm: FakeIBMCloud, runtime_api: RuntimeAPI
) -> None:
    job = runtime_api.create_job(JOB)

    with pytest.raises(JobNotFoundError):
        runtime_api.job(f"{job['id']}/cancel")
    assert fake_ibm.jobs[job["id"]].status != "Cancelled"


def test_an_empty_id_is_refused_before_any_call(
    fake_ibm: FakeIBMCloud, runtime_api: RuntimeAPI
) -> None:
    with pytest.raises(InvalidInputError, match="job id"):
        runtime_api.job("")
    assert fake_ibm.calls == []


def test_a_failed_job_reports_its_reason_code(
    fake_ibm: FakeIBMCloud, runtime_api: RuntimeAPI
) -> None:
    fake_ibm.plan_next_job("Failed", reason_code=1517, reason="Error in transpilation")
    job = runtime_api.create_job(JOB)

    details = _run_to_the_end(runtime_api, job["id"])

    assert details["state"] == {
        "status": "Failed",
        "reason": "Error in transpilation",
        "reason_code": 1517,
    }
    assert "1517" in runtime_api.job_results(job["id"])


def test_a_job_that_ran_too_long_is_cancelled_with_1305(
    fake_ibm: FakeIBMCloud, runtime_api: RuntimeAPI
) -> None:
    fake_ibm.plan_next_job("Cancelled", reason_code=1305)
    job = runtime_api.create_job(JOB)

    details = _run_to_the_end(runtime_api, job["id"])

    assert details["state"]["status"] == "Cancelled"
    assert details["state"]["reason_code"] == 1305
    assert details["status"] == "Cancelled - Ran too long"


def test_bad_params_fail_the_job_not_the_request(runtime_api: RuntimeAPI) -> None:
    job = runtime_api.create_job(JOB | {"params": {"pubs": "not a list"}})

    details = _run_to_the_end(runtime_api, job["id"])

    assert details["state"]["status"] == "Failed"
    assert details["state"]["reason_code"] == 1517


def test_cancel_a_queued_job_then_cancel_again_is_409(
    fake_ibm: FakeIBMCloud, runtime_api: RuntimeAPI
) -> None:
    job = runtime_api.create_job(JOB)

    runtime_api.cancel_job(job["id"])

    assert fake_ibm.jobs[job["id"]].status == "Cancelled"
    with pytest.raises(InvalidStateError, match="final state"):
        runtime_api.cancel_job(job["id"])


def test_delete_removes_the_job(fake_ibm: FakeIBMCloud, runtime_api: RuntimeAPI) -> None:
    job = runtime_api.create_job(JOB)

    runtime_api.delete_job(job["id"])

    assert job["id"] not in fake_ibm.jobs
    assert fake_ibm.calls_to("DELETE", "/api/v1/jobs/.*")[0].status == 204
    with pytest.raises(JobNotFoundError):
        runtime_api.job(job["id"])


def test_metrics_and_logs(fake_ibm: FakeIBMCloud, runtime_api: RuntimeAPI) -> None:
    fake_ibm.plan_next_job("Failed", reason_code=1517)
    job = runtime_api.create_job(JOB)
    pending = runtime_api.job_metrics(job["id"])
    _run_to_the_end(runtime_api, job["id"])

    assert pending["usage"]["status"] == "pending"
    assert runtime_api.job_metrics(job["id"])["usage"]["status"] == "complete"
    assert "Running" in runtime_api.job_logs(job["id"])


def test_missing_logs_read_as_empty(fake_ibm: FakeIBMCloud, runtime_api: RuntimeAPI) -> None:
    job = runtime_api.create_job(JOB)
    fake_ibm.logs_available = False

    assert runtime_api.job_logs(job["id"]) == ""


def test_replace_tags(fake_ibm: FakeIBMCloud, runtime_api: RuntimeAPI) -> None:
    job = runtime_api.create_job(JOB | {"tags": ["old"]})

    runtime_api.replace_job_tags(job["id"], ["a", "b"])

    assert runtime_api.job(job["id"])["tags"] == ["a", "b"]
    (call,) = fake_ibm.calls_to("PUT", "/api/v1/jobs/.*/tags")
    assert call.json() == {"tags": ["a", "b"]}


def test_replace_tags_insists_on_204(fake_ibm: FakeIBMCloud, runtime_api: RuntimeAPI) -> None:
    job = runtime_api.create_job(JOB)
    fake_ibm.fail("PUT", "/api/v1/jobs/.*/tags", status=200, body={})

    with pytest.raises(APIError, match="instead of 204"):
        runtime_api.replace_job_tags(job["id"], ["a"])


def test_create_job_on_an_unknown_backend(runtime_api: RuntimeAPI) -> None:
    with pytest.raises(NotFoundError, match="backend") as caught:
        runtime_api.create_job(JOB | {"backend": "ibm_nowhere"})
    assert "ibm_nowhere" in str(caught.value)


# -- job listing ----------------------------------------------------------------------------------


def _seed(fake: FakeIBMCloud, n: int, **kwargs: Any) -> list[str]:
    start = 1_800_000_000.0
    return [fake.add_job(crn=fake.crn, created=start + i, **kwargs).id for i in range(n)]


def test_jobs_pages_until_count_newest_first(
    fake_ibm: FakeIBMCloud, runtime_api: RuntimeAPI
) -> None:
    ids = _seed(fake_ibm, 7)
    fake_ibm.max_jobs_page = 3  # the service hands out 3 per page whatever is asked

    listed = [j["id"] for j in runtime_api.jobs()]

    assert listed == ids[::-1]
    calls = fake_ibm.calls_to("GET", "/api/v1/jobs")
    assert [c.query.get("offset", ["0"])[0] for c in calls] == ["0", "3", "6"]
    assert all(c.query["exclude_params"] == ["true"] for c in calls)


def test_jobs_limit_skip_and_oldest_first(fake_ibm: FakeIBMCloud, runtime_api: RuntimeAPI) -> None:
    ids = _seed(fake_ibm, 6)

    assert [j["id"] for j in runtime_api.jobs(limit=2, skip=1, descending=False)] == ids[1:3]
    (call,) = fake_ibm.calls_to("GET", "/api/v1/jobs")
    assert call.query["limit"] == ["2"]
    assert call.query["offset"] == ["1"]
    assert call.query["sort"] == ["ASC"]


def test_jobs_filters_reach_the_service(fake_ibm: FakeIBMCloud, runtime_api: RuntimeAPI) -> None:
    wanted = fake_ibm.add_job(
        crn=fake_ibm.crn, backend="fake_lima", tags=["x", "y"], status="Queued"
    )
    fake_ibm.add_job(crn=fake_ibm.crn, backend="fake_lima", tags=["x"], status="Queued")
    after = datetime.now(UTC) - timedelta(hours=1)

    found = list(
        runtime_api.jobs(
            backend="fake_lima",
            pending=True,
            program="sampler",
            tags=["x", "y"],
            created_after=after,
        )
    )

    assert [j["id"] for j in found] == [wanted.id]
    query = fake_ibm.calls_to("GET", "/api/v1/jobs")[0].query
    assert query["tags"] == ["x", "y"]
    assert query["pending"] == ["true"]
    assert query["created_after"] == [after.isoformat()]


def test_jobs_stops_on_an_empty_page_even_if_count_says_more(
    fake_ibm: FakeIBMCloud, runtime_api: RuntimeAPI
) -> None:
    ids = _seed(fake_ibm, 4)
    fake_ibm.max_jobs_page = 2
    fake_ibm.jobs_count_offset = 50  # the service over-counts

    listed = [j["id"] for j in runtime_api.jobs()]

    assert listed == ids[::-1]
    assert fake_ibm.count("GET", "/api/v1/jobs") == 3  # two pages, then one empty page


def test_jobs_stops_when_the_service_repeats_a_page(
    fake_ibm: FakeIBMCloud, runtime_api: RuntimeAPI
) -> None:
    page = {"jobs": [{"id": "a"}, {"id": "b"}], "count": 1000}
    fake_ibm.fail("GET", "/api/v1/jobs", status=200, body=page, times=100)

    assert [j["id"] for j in runtime_api.jobs()] == ["a", "b"]
    assert fake_ibm.count("GET", "/api/v1/jobs") == 1 + 3  # gives up after 3 repeated pages


def test_jobs_created_during_a_listing_do_not_hide_older_ones(
    fake_ibm: FakeIBMCloud, runtime_api: RuntimeAPI
) -> None:
    ids = _seed(fake_ibm, 6)
    fake_ibm.max_jobs_page = 2
    listing = runtime_api.jobs()
    first_page = [next(listing)["id"], next(listing)["id"]]
    _seed_newer = [
        fake_ibm.add_job(crn=fake_ibm.crn, created=1_900_000_000.0 + i).id for i in range(2)
    ]

    rest = [j["id"] for j in listing]

    assert first_page + rest == ids[::-1]
    assert not set(_seed_newer) & set(rest)


def test_jobs_asks_for_at_most_200_per_page(
    fake_ibm: FakeIBMCloud, runtime_api: RuntimeAPI
) -> None:
    list(runtime_api.jobs(limit=5000, page_size=10_000))

    assert fake_ibm.calls_to("GET", "/api/v1/jobs")[0].query["limit"] == ["200"]


def test_jobs_refuses_a_negative_limit(runtime_api: RuntimeAPI) -> None:
    with pytest.raises(InvalidInputError, match="limit"):
        runtime_api.jobs(limit=-1)


# -- sessions -------------------------------------------------------------------------------------


def test_session_lifecycle(fake_ibm: FakeIBMCloud, runtime_api: RuntimeAPI) -> None:
    session = runtime_api.create_session("fake_manila", fake_ibm.crn, "dedicated", max_ttl=600)
    job = runtime_api.create_job(JOB | {"session_id": session["id"]})

    details = runtime_api.session(session["id"])
    runtime_api.close_session(session["id"])

    assert fake_ibm.calls_to("POST", "/api/v1/sessions")[0].json() == {
        "mode": "dedicated",
        "backend": "fake_manila",
        "instance": fake_ibm.crn,
        "max_ttl": 600,
    }
    assert job["session_id"] == session["id"]
    assert details["accepting_jobs"] is True
    assert fake_ibm.calls_to("PATCH", "/api/v1/sessions/.*")[0].json() == {"accepting_jobs": False}
    assert runtime_api.session(session["id"])["accepting_jobs"] is False
    with pytest.raises(APIError, match="accepts no new jobs"):
        runtime_api.create_job(JOB | {"session_id": session["id"]})


def test_cancel_a_batch_cancels_its_queued_jobs(
    fake_ibm: FakeIBMCloud, runtime_api: RuntimeAPI
) -> None:
    batch = runtime_api.create_session("fake_manila", fake_ibm.crn, "batch")
    job = runtime_api.create_job(JOB | {"session_id": batch["id"]})

    runtime_api.cancel_session(batch["id"])

    assert fake_ibm.calls_to("DELETE", f"/api/v1/sessions/{batch['id']}/close")[0].status == 204
    assert fake_ibm.jobs[job["id"]].status == "Cancelled"
    assert runtime_api.session(batch["id"])["state"] == "closed"


def test_an_unknown_session_is_named_in_the_error(runtime_api: RuntimeAPI) -> None:
    for call in (runtime_api.session, runtime_api.close_session, runtime_api.cancel_session):
        with pytest.raises(SessionNotFoundError, match="Session 'gone-1' was not found"):
            call("gone-1")
