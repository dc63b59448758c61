"""IAM bearer tokens and the runtime headers, against the fake IBM cloud."""

from __future__ import annotations

import logging
import threading
import time
import traceback
from collections.abc import Callable

import pytest

from jupyter_qrt.runtime.errors import APIError, AuthError, TransportError
from jupyter_qrt.runtime.http.auth import (
    IBM_API_VERSION,
    BearerAuth,
    IAMAuth,
    RuntimeAuth,
    ServiceCRNAuth,
)
from jupyter_qrt.runtime.http.rest import RuntimeAPI
from jupyter_qrt.runtime.http.transport import Transport

from .conftest import SleepRecorder
from .fake_ibm import FakeIBMCloud


class Clock:
    """A clock the test moves by hand."""

    def __init__(self, now: float = 1_800_000_000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def _iam_calls(fake: FakeIBMCloud) -> int:
    return fake.count("POST", "/identity/token")


class _CountingIAMAuth(IAMAuth):
    """``IAMAuth`` that counts the callers that have asked it for a token."""

    def __init__(self, api_key: str, iam_url: str) -> None:
        super().__init__(api_key, iam_url)
        self.askers = 0
        self._askers_lock = threading.Lock()

    def token(self) -> str:
        with self._askers_lock:
            self.askers += 1
        return super().token()


def _wait_until(condition: Callable[[], bool], what: str, timeout: float = 30.0) -> None:
    """Bounded poll of an observable condition (a poll interval, not a synchronising sleep)."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            pytest.fail(f"timed out waiting until {what}")
        time.sleep(0.005)


def _pile_up_on_iam(fake: FakeIBMCloud, auth: _CountingIAMAuth, callers: int) -> None:
    """Hold IAM until all ``callers`` asked for a token and one request reached IAM."""
    _wait_until(lambda: auth.askers >= callers, f"{callers} threads asked for a token")
    _wait_until(lambda: fake.iam_arrivals >= 1, "a token request reached IAM")


def test_the_token_is_fetched_once_and_reused(fake_ibm: FakeIBMCloud) -> None:
    auth = IAMAuth(fake_ibm.api_key, fake_ibm.iam_url)

    first, second = auth.token(), auth.token()

    assert first == second
    assert _iam_calls(fake_ibm) == 1


def test_the_key_exchange_is_the_form_iam_expects(fake_ibm: FakeIBMCloud) -> None:
    IAMAuth(fake_ibm.api_key, fake_ibm.iam_url + "/").token()

    (call,) = fake_ibm.calls_to("POST", "/identity/token")
    assert call.url == "https://iam.cloud.ibm.com/identity/token"
    assert call.headers["Accept"] == "application/json"
    assert call.headers["Content-Type"] == "application/x-www-form-urlencoded"
    assert call.query == {}  # the key travels in the body, never in the URL
    assert "grant_type=urn%3Aibm%3Aparams%3Aoauth%3Agrant-type%3Aapikey" in (call.body or "")
    assert "response_type=cloud_iam" in (call.body or "")
    assert f"apikey={fake_ibm.api_key}" in (call.body or "")
    assert call.timeout is not None


def test_the_token_is_refreshed_after_80_percent_of_its_life() -> None:
    clock = Clock()
    fake = FakeIBMCloud(clock=clock)
    with fake.active():
        auth = IAMAuth(fake.api_key, fake.iam_url, clock=clock)
        first = auth.token()
        clock.now += 0.79 * 3600
        assert auth.token() == first
        assert _iam_calls(fake) == 1

        clock.now += 0.02 * 3600
        second = auth.token()

        assert second != first
        assert _iam_calls(fake) == 2


def test_a_failed_early_refresh_keeps_the_valid_token_until_its_last_seconds() -> None:
    clock = Clock()
    fake = FakeIBMCloud(clock=clock)
    with fake.active():
        auth = IAMAuth(fake.api_key, fake.iam_url, clock=clock)
        first = auth.token()
        fake.fail("POST", "/identity/token", status=503, times=5)

        clock.now += 0.9 * 3600
        assert auth.token() == first  # IAM is down, but the token still has six minutes

        clock.now = clock.now - 0.9 * 3600 + 3600 - 9  # nine seconds left: never sent
        with pytest.raises(TransportError, match="IAM"):
            auth.token()


def test_a_token_in_its_last_ten_seconds_is_replaced_before_use() -> None:
    clock = Clock()
    fake = FakeIBMCloud(clock=clock)
    with fake.active():
        auth = IAMAuth(fake.api_key, fake.iam_url, clock=clock)
        first = auth.token()
        clock.now += 3600 - 5

        assert auth.token() != first
        assert _iam_calls(fake) == 2


def test_a_non_jwt_token_lives_as_long_as_expires_in_says() -> None:
    clock = Clock()
    fake = FakeIBMCloud(clock=clock)
    fake.opaque_tokens = True
    fake.token_lifetime = 1000
    with fake.active():
        auth = IAMAuth(fake.api_key, fake.iam_url, clock=clock)
        first = auth.token()
        clock.now += 700
        assert auth.token() == first
        clock.now += 150  # past 80% of 1000 s

        assert auth.token() != first


def test_twenty_threads_needing_a_token_cause_one_iam_call(
    fake_ibm: FakeIBMCloud, no_sleep: SleepRecorder
) -> None:
    fake_ibm.iam_gate = threading.Event()  # IAM answers once all threads are waiting
    iam = _CountingIAMAuth(fake_ibm.api_key, fake_ibm.iam_url)
    auth = RuntimeAuth(iam, fake_ibm.crn)
    api = RuntimeAPI(Transport(fake_ibm.runtime_url, auth=auth, sleep=no_sleep))
    start = threading.Barrier(20)
    names: list[str] = []
    failures: list[BaseException] = []

    def list_backends() -> None:
        start.wait()
        try:
            names.append(api.backends()[0]["name"])
        except BaseException as exc:
            failures.append(exc)

    threads = [threading.Thread(target=list_backends) for _ in range(20)]
    for thread in threads:
        thread.start()
    try:
        _pile_up_on_iam(fake_ibm, iam, 20)
    finally:
        fake_ibm.iam_gate.set()
    for thread in threads:
        thread.join(timeout=30)

    assert failures == []
    assert names == ["fake_manila"] * 20
    assert _iam_calls(fake_ibm) == 1
    assert fake_ibm.count("GET", "/api/v1/backends") == 20


def test_threads_waiting_on_a_rejected_key_do_not_each_ask_iam(fake_ibm: FakeIBMCloud) -> None:
    fake_ibm.iam_gate = threading.Event()  # IAM answers once all threads are waiting
    auth = _CountingIAMAuth("a-key-iam-does-not-know-0000", fake_ibm.iam_url)
    start = threading.Barrier(10)
    errors: list[BaseException] = []

    def need_token() -> None:
        start.wait()
        try:
            auth.token()
        except AuthError as exc:
            errors.append(exc)

    threads = [threading.Thread(target=need_token) for _ in range(10)]
    for thread in threads:
        thread.start()
    try:
        _pile_up_on_iam(fake_ibm, auth, 10)
    finally:
        fake_ibm.iam_gate.set()
    for thread in threads:
        thread.join(timeout=30)

    assert len(errors) == 10
    assert _iam_calls(fake_ibm) < 10


def test_a_rejected_key_says_so_and_how_to_get_a_new_one(fake_ibm: FakeIBMCloud) -> None:
    key = "wrong-key-1234567890-Zq9X"
    auth = IAMAuth(key, fake_ibm.iam_url)

    with pytest.raises(AuthError) as caught:
        auth.token()

    message = str(caught.value)
    assert "rejected by IBM Cloud IAM" in message
    assert "Provided API key could not be found" in message
    assert "BXNIM0415E" in message
    assert "new API key" in message
    assert key not in message
    assert "Zq9X" in message  # the last four characters, so the user knows which key


def test_a_rejected_key_stops_a_runtime_call_before_it_is_sent(
    fake_ibm: FakeIBMCloud, no_sleep: SleepRecorder
) -> None:
    auth = RuntimeAuth(IAMAuth("not-a-key-0000000000", fake_ibm.iam_url), fake_ibm.crn)
    api = RuntimeAPI(Transport(fake_ibm.runtime_url, auth=auth, sleep=no_sleep))

    with pytest.raises(AuthError, match="rejected by IBM Cloud IAM"):
        api.create_job({"program_id": "sampler", "backend": "fake_manila", "params": {}})

    assert fake_ibm.count("POST", "/api/v1/jobs") == 0
    assert _iam_calls(fake_ibm) == 1  # a rejection is final: not retried
    assert no_sleep.waits == []


def test_an_unreachable_iam_is_a_transport_error(fake_ibm: FakeIBMCloud) -> None:
    fake_ibm.fail("POST", "/identity/token", error="refused")

    with pytest.raises(TransportError, match=r"Could not reach IBM Cloud IAM.*network"):
        IAMAuth(fake_ibm.api_key, fake_ibm.iam_url).token()


def test_an_iam_outage_is_a_transport_error(fake_ibm: FakeIBMCloud) -> None:
    fake_ibm.fail("POST", "/identity/token", status=503)

    with pytest.raises(TransportError, match="failed to issue a token"):
        IAMAuth(fake_ibm.api_key, fake_ibm.iam_url).token()


def test_the_key_never_shows_in_logs_reprs_or_errors(
    fake_ibm: FakeIBMCloud, no_sleep: SleepRecorder, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    good = IAMAuth(fake_ibm.api_key, fake_ibm.iam_url)
    runtime = RuntimeAuth(good, fake_ibm.crn)
    transport = Transport(fake_ibm.runtime_url, auth=runtime, sleep=no_sleep)
    RuntimeAPI(transport).backends()
    bad_key = "rejected-key-ABCDEFGHIJKLMNOP"
    texts = [repr(good), repr(runtime), repr(transport)]
    for key, failure in ((bad_key, None), (fake_ibm.api_key, "refused")):
        if failure:
            fake_ibm.fail("POST", "/identity/token", error=failure, times=10)
        with pytest.raises((AuthError, TransportError)) as caught:
            IAMAuth(key, fake_ibm.iam_url).token()
        texts.append("".join(traceback.format_exception(caught.value)))

    token = good.token()
    for secret in (fake_ibm.api_key, bad_key, token):
        assert secret not in caplog.text
        for text in texts:
            assert secret not in text


def test_runtime_calls_carry_bearer_crn_and_api_version(
    fake_ibm: FakeIBMCloud, runtime_api: RuntimeAPI
) -> None:
    runtime_api.backends()
    runtime_api.usage()

    for call in fake_ibm.calls_to("GET", "/api/v1/.*"):
        assert call.headers["Authorization"].startswith("Bearer ey")
        assert call.headers["Service-CRN"] == fake_ibm.crn
        assert call.headers["IBM-API-Version"] == IBM_API_VERSION == "2026-04-15"
    assert ServiceCRNAuth is RuntimeAuth


def test_a_runtime_call_without_crn_is_refused_by_the_service(
    fake_ibm: FakeIBMCloud, no_sleep: SleepRecorder
) -> None:
    auth = RuntimeAuth(IAMAuth(fake_ibm.api_key, fake_ibm.iam_url))
    api = RuntimeAPI(Transport(fake_ibm.runtime_url, auth=auth, sleep=no_sleep))

    with pytest.raises(APIError, match="Service-CRN"):
        api.backends()

    (call,) = fake_ibm.calls_to("GET", "/api/v1/backends")
    assert "Service-CRN" not in call.headers


def test_a_bearer_token_from_elsewhere_is_sent_as_is(
    fake_ibm: FakeIBMCloud, no_sleep: SleepRecorder
) -> None:
    token = IAMAuth(fake_ibm.api_key, fake_ibm.iam_url).token()
    bearer = BearerAuth(token)
    api = RuntimeAPI(
        Transport(fake_ibm.runtime_url, auth=RuntimeAuth(bearer, fake_ibm.crn), sleep=no_sleep)
    )

    assert api.backends()
    assert fake_ibm.calls_to("GET", "/api/v1/backends")[0].headers["Authorization"] == (
        f"Bearer {token}"
    )
    assert token not in repr(bearer)


def test_a_revoked_token_is_replaced_once_and_the_call_succeeds(
    fake_ibm: FakeIBMCloud, runtime_api: RuntimeAPI
) -> None:
    runtime_api.backends()
    fake_ibm.revoke_tokens()

    assert runtime_api.usage()["instance_id"] == fake_ibm.crn
    assert _iam_calls(fake_ibm) == 2
    assert [c.status for c in fake_ibm.calls_to("GET", "/api/v1/instances/usage")] == [401, 200]


def test_a_refused_bearer_that_cannot_be_renewed_asks_to_log_in_again(
    fake_ibm: FakeIBMCloud, no_sleep: SleepRecorder
) -> None:
    token = IAMAuth(fake_ibm.api_key, fake_ibm.iam_url).token()
    fake_ibm.revoke_tokens()
    auth = RuntimeAuth(BearerAuth(token), fake_ibm.crn)
    api = RuntimeAPI(Transport(fake_ibm.runtime_url, auth=auth, sleep=no_sleep))

    with pytest.raises(AuthError, match=r"401.*log in again"):
        api.backends()
    assert fake_ibm.count("GET", "/api/v1/backends") == 1


@pytest.mark.parametrize("key", ["", "   "])
def test_an_empty_key_is_refused_at_once(key: str) -> None:
    with pytest.raises(AuthError, match="empty"):
        IAMAuth(key, "https://iam.cloud.ibm.com")
