"""Retries, timeouts and error mapping of the transport, against the fake IBM cloud."""

from __future__ import annotations

import logging
import socket
from email.utils import formatdate

import pytest
import requests

from jupyter_qrt.runtime.errors import (
    APIError,
    AuthError,
    ForbiddenError,
    InvalidStateError,
    JobNotFoundError,
    NotFoundError,
    RateLimitedError,
    TransportError,
)
from jupyter_qrt.runtime.http.auth import IAMAuth, RuntimeAuth
from jupyter_qrt.runtime.http.rest import RuntimeAPI
from jupyter_qrt.runtime.http.retry import RetryPolicy, parse_retry_after
from jupyter_qrt.runtime.http.transport import Transport

from .conftest import SleepRecorder
from .fake_ibm import FakeIBMCloud

JOB = {"program_id": "sampler", "backend": "fake_manila", "params": {}}


def _jobs_created(fake: FakeIBMCloud) -> int:
    return len(fake.jobs)


# -- idempotent calls ---------------------------------------------------------------------------


def test_a_burst_of_5xx_on_a_get_is_ridden_out(
    fake_ibm: FakeIBMCloud, runtime_api: RuntimeAPI, no_sleep: SleepRecorder
) -> None:
    fake_ibm.fail("GET", "/api/v1/backends", status=503, times=2)
    fake_ibm.fail("GET", "/api/v1/backends", status=520, times=1)

    assert runtime_api.backends()[0]["name"] == "fake_manila"

    assert [c.status for c in fake_ibm.calls_to("GET", "/api/v1/backends")] == [503, 503, 520, 200]
    assert len(no_sleep.waits) == 3
    assert no_sleep.waits[0] < no_sleep.waits[2]  # backing off


def test_a_get_that_keeps_failing_gives_up_with_the_service_words(
    fake_ibm: FakeIBMCloud, runtime_api: RuntimeAPI, no_sleep: SleepRecorder
) -> None:
    fake_ibm.fail("GET", "/api/v1/instances/usage", status=502, times=100)

    with pytest.raises(TransportError) as caught:
        runtime_api.usage()

    message = str(caught.value)
    assert "502" in message
    assert "Fake failure 502" in message  # the service's own message
    assert "after 6 attempts" in message
    assert "try again in a few minutes" in message
    assert fake_ibm.count("GET", "/api/v1/instances/usage") == 6
    assert no_sleep.total <= RetryPolicy().max_total_sleep


def test_total_sleep_is_bounded_by_the_policy(
    fake_ibm: FakeIBMCloud, runtime_transport: Transport, no_sleep: SleepRecorder
) -> None:
    transport = Transport(
        fake_ibm.runtime_url,
        auth=runtime_transport.auth,
        retry=RetryPolicy(max_retries=50, backoff_base=1.0, max_total_sleep=10.0),
        sleep=no_sleep,
    )
    fake_ibm.fail("GET", "/api/v1/backends", status=500, times=100)

    with pytest.raises(TransportError):
        transport.get_json("/backends")

    assert no_sleep.total <= 10.0
    assert fake_ibm.count("GET", "/api/v1/backends") < 10


def test_a_read_timeout_on_a_get_is_retried(
    fake_ibm: FakeIBMCloud, runtime_api: RuntimeAPI
) -> None:
    fake_ibm.fail("GET", "/api/v1/backends/fake_manila/status", error="read_timeout")

    assert runtime_api.backend_status("fake_manila")["state"] is True
    assert fake_ibm.count("GET", "/api/v1/backends/fake_manila/status") == 2


# -- 429 --------------------------------------------------------------------------------------


def test_429_waits_as_long_as_retry_after_says(
    fake_ibm: FakeIBMCloud, runtime_api: RuntimeAPI, no_sleep: SleepRecorder
) -> None:
    fake_ibm.rate_limit("GET", "/api/v1/backends", retry_after="7")

    assert runtime_api.backends()

    assert no_sleep.waits == [7.0]


def test_a_huge_retry_after_is_capped(
    fake_ibm: FakeIBMCloud, runtime_api: RuntimeAPI, no_sleep: SleepRecorder
) -> None:
    fake_ibm.rate_limit("GET", "/api/v1/backends", retry_after="86400")

    assert runtime_api.backends()

    assert no_sleep.waits == [RetryPolicy().retry_after_max]


def test_a_429_that_outlives_the_retries_says_when_to_come_back(
    fake_ibm: FakeIBMCloud, runtime_api: RuntimeAPI
) -> None:
    fake_ibm.rate_limit("GET", "/api/v1/jobs/.*", times=100, retry_after="30")
    job = runtime_api.create_job(JOB)

    with pytest.raises(RateLimitedError) as caught:
        runtime_api.job(job["id"])

    assert caught.value.retry_after == 30.0
    assert "wait 30 s" in str(caught.value).lower()
    assert fake_ibm.count("GET", "/api/v1/jobs/.*") == 4  # 3 waits of 30 s fit in 90 s


def test_retry_after_is_read_as_seconds_or_as_an_http_date() -> None:
    now = 1_800_000_000.0
    assert parse_retry_after("12", now) == 12.0
    assert parse_retry_after(formatdate(now + 40, usegmt=True), now) == pytest.approx(40.0)
    assert parse_retry_after(formatdate(now - 40, usegmt=True), now) == 0.0
    assert parse_retry_after("soon", now) is None
    assert parse_retry_after(None, now) is None


# -- POST /jobs is never sent twice -------------------------------------------------------------


@pytest.mark.parametrize("status", [500, 502, 503, 504, 520, 524])
def test_a_job_post_answered_5xx_is_not_retried(
    fake_ibm: FakeIBMCloud, runtime_api: RuntimeAPI, status: int
) -> None:
    fake_ibm.fail("POST", "/api/v1/jobs", status=status, after_handling=True)

    with pytest.raises(TransportError) as caught:
        runtime_api.create_job(JOB)

    assert fake_ibm.count("POST", "/api/v1/jobs") == 1
    assert _jobs_created(fake_ibm) == 1
    assert "check whether it took effect" in str(caught.value)


@pytest.mark.parametrize("kind", ["read_timeout", "reset"])
def test_a_job_post_whose_answer_was_lost_is_not_retried(
    fake_ibm: FakeIBMCloud, runtime_api: RuntimeAPI, kind: str
) -> None:
    fake_ibm.fail("POST", "/api/v1/jobs", error=kind, after_handling=True)

    with pytest.raises(TransportError, match="list your recent jobs"):
        runtime_api.create_job(JOB)

    assert fake_ibm.count("POST", "/api/v1/jobs") == 1
    assert _jobs_created(fake_ibm) == 1


@pytest.mark.parametrize("kind", ["refused", "connect_timeout"])
def test_a_job_post_that_never_connected_is_retried(
    fake_ibm: FakeIBMCloud, runtime_api: RuntimeAPI, kind: str
) -> None:
    fake_ibm.fail("POST", "/api/v1/jobs", error=kind, times=2)

    job = runtime_api.create_job(JOB)

    assert fake_ibm.count("POST", "/api/v1/jobs") == 3
    assert list(fake_ibm.jobs) == [job["id"]]


def test_a_job_post_answered_429_is_retried(
    fake_ibm: FakeIBMCloud, runtime_api: RuntimeAPI, no_sleep: SleepRecorder
) -> None:
    fake_ibm.rate_limit("POST", "/api/v1/jobs", retry_after="2")

    job = runtime_api.create_job(JOB)

    assert list(fake_ibm.jobs) == [job["id"]]
    assert no_sleep.waits == [2.0]


def test_a_job_post_waits_for_iam_without_reaching_the_service(
    fake_ibm: FakeIBMCloud, runtime_api: RuntimeAPI
) -> None:
    fake_ibm.fail("POST", "/identity/token", error="refused", times=2)

    runtime_api.create_job(JOB)

    assert fake_ibm.count("POST", "/identity/token") == 3
    assert fake_ibm.count("POST", "/api/v1/jobs") == 1


def test_a_post_marked_idempotent_is_retried_on_5xx(
    fake_ibm: FakeIBMCloud, runtime_transport: Transport
) -> None:
    fake_ibm.fail("POST", "/api/v1/jobs", status=503)

    runtime_transport.post_json("/jobs", JOB, idempotent=True)

    assert fake_ibm.count("POST", "/api/v1/jobs") == 2


# -- timeouts -------------------------------------------------------------------------------------


def test_every_call_has_a_timeout(fake_ibm: FakeIBMCloud, runtime_api: RuntimeAPI) -> None:
    job = runtime_api.create_job(JOB)
    runtime_api.job(job["id"])
    runtime_api.replace_job_tags(job["id"], ["a"])
    runtime_api.cancel_job(job["id"])
    runtime_api.delete_job(job["id"])
    session = runtime_api.create_session("fake_manila", fake_ibm.crn, "batch")
    runtime_api.close_session(session["id"])

    timeouts = {(c.method, c.path): c.timeout for c in fake_ibm.calls}
    assert len(timeouts) >= 8
    assert all(isinstance(t, tuple) and None not in t for t in timeouts.values()), timeouts
    assert fake_ibm.calls_to("POST", "/api/v1/jobs")[0].timeout == (5.0, 900.0)
    assert fake_ibm.calls_to("GET", "/api/v1/jobs/.*")[0].timeout == (5.0, 60.0)
    assert fake_ibm.calls_to("POST", "/identity/token")[0].timeout is not None


def test_a_call_can_set_its_own_timeout(
    fake_ibm: FakeIBMCloud, runtime_transport: Transport
) -> None:
    runtime_transport.get_json("/backends", timeout=(1.0, 2.0))

    assert fake_ibm.calls_to("GET", "/api/v1/backends")[0].timeout == (1.0, 2.0)


# -- error mapping --------------------------------------------------------------------------------


def test_403_is_forbidden_with_what_to_check(
    fake_ibm: FakeIBMCloud, no_sleep: SleepRecorder
) -> None:
    auth = RuntimeAuth(IAMAuth(fake_ibm.api_key, fake_ibm.iam_url), fake_ibm.eu_crn)
    api = RuntimeAPI(Transport(fake_ibm.runtime_url, auth=auth, sleep=no_sleep))

    with pytest.raises(ForbiddenError, match=r"403.*not authorized.*instance CRN"):
        api.backends()
    assert fake_ibm.count("GET", "/api/v1/backends") == 1


def test_401_is_an_auth_error(fake_ibm: FakeIBMCloud, runtime_transport: Transport) -> None:
    fake_ibm.fail("GET", "/api/v1/backends", status=401, times=2)

    with pytest.raises(AuthError, match="log in again"):
        runtime_transport.get_json("/backends")


def test_404_is_not_found_or_the_callers_narrower_class(
    fake_ibm: FakeIBMCloud, runtime_transport: Transport
) -> None:
    with pytest.raises(NotFoundError, match="check the name or id"):
        runtime_transport.get_json("/nothing/here")
    with pytest.raises(JobNotFoundError, match=r"^Job x is gone \(GET /api/v1/jobs/x: 404"):
        runtime_transport.get_json("/jobs/x", not_found=(JobNotFoundError, "Job x is gone"))


def test_409_is_an_invalid_state(fake_ibm: FakeIBMCloud, runtime_api: RuntimeAPI) -> None:
    job = fake_ibm.add_job(crn=fake_ibm.crn, status="Completed")

    with pytest.raises(InvalidStateError) as caught:
        runtime_api.cancel_job(job.id)

    assert caught.value.status_code == 409
    assert "already in a final state" in str(caught.value)


def test_other_statuses_are_api_errors_with_the_status(
    fake_ibm: FakeIBMCloud, runtime_api: RuntimeAPI
) -> None:
    with pytest.raises(APIError) as caught:
        runtime_api.create_job({"program_id": "sampler"})

    assert caught.value.status_code == 400
    assert "program_id and backend are required" in str(caught.value)
    assert "Check the arguments" in str(caught.value)


@pytest.mark.parametrize(
    ("body", "words"),
    [
        (
            {
                "errors": [{"code": 1234, "message": "Bad pubs", "more_info": "https://x"}],
                "trace": "t1",
            },
            ["Bad pubs", "code 1234", "https://x", "trace t1"],
        ),
        ({"error": {"message": "Old style", "code": "E9"}}, ["Old style", "code E9"]),
        ("<html>Bad gateway page</html>", ["Bad gateway page"]),
    ],
)
def test_the_service_message_is_read_from_either_body_shape(
    fake_ibm: FakeIBMCloud, runtime_transport: Transport, body: object, words: list[str]
) -> None:
    fake_ibm.fail("GET", "/api/v1/backends", status=422, body=body)

    with pytest.raises(APIError) as caught:
        runtime_transport.get_json("/backends")

    for word in words:
        assert word in str(caught.value)


def test_a_non_json_answer_to_a_json_call_is_an_api_error(
    fake_ibm: FakeIBMCloud, runtime_transport: Transport
) -> None:
    fake_ibm.fail("GET", "/api/v1/backends", status=200, body="<html>login page</html>")

    with pytest.raises(APIError, match="not JSON"):
        runtime_transport.get_json("/backends")


def test_a_refused_connection_to_a_real_port_is_retried_then_a_transport_error(
    no_sleep: SleepRecorder,
) -> None:
    with socket.socket() as sock:  # a port nobody listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    transport = Transport(f"http://127.0.0.1:{port}/api/v1", sleep=no_sleep)

    with pytest.raises(TransportError) as caught:
        transport.post_json("/jobs", JOB)

    assert f"127.0.0.1:{port}" in str(caught.value)
    assert "Check the network" in str(caught.value)
    assert len(no_sleep.waits) == RetryPolicy().max_retries  # never connected: safe to retry


def test_requests_are_logged_without_headers_or_tokens(
    fake_ibm: FakeIBMCloud, runtime_api: RuntimeAPI, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG, logger="jupyter_qrt")

    runtime_api.backends()

    token = fake_ibm.calls_to("GET", "/api/v1/backends")[0].headers["Authorization"].split()[1]
    assert "GET /api/v1/backends -> 200" in caplog.text
    assert token not in caplog.text
    assert "Authorization" not in caplog.text
    assert fake_ibm.crn not in caplog.text


def test_an_injected_session_is_used_and_left_open(fake_ibm: FakeIBMCloud) -> None:
    session = requests.Session()
    seen: list[str] = []
    session.hooks["response"].append(lambda response, **_: seen.append(response.request.path_url))
    auth = RuntimeAuth(IAMAuth(fake_ibm.api_key, fake_ibm.iam_url, session=session), fake_ibm.crn)
    with Transport(fake_ibm.runtime_url, auth=auth, session=session) as transport:
        transport.get_json("/backends")
    session.get(fake_ibm.runtime_url + "/backends", timeout=5)  # still usable

    assert seen == ["/identity/token", "/api/v1/backends", "/api/v1/backends"]
    session.close()
