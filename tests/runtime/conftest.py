"""Fixtures of the runtime client's tests: the fake IBM cloud and clients wired to it."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from jupyter_qrt.runtime.http.auth import IAMAuth, RuntimeAuth
from jupyter_qrt.runtime.http.rest import RuntimeAPI
from jupyter_qrt.runtime.http.transport import Transport

from .fake_ibm import FakeIBMCloud


class SleepRecorder:
    """Stands in for ``time.sleep`` in transports: records the waits, waits for none."""

    def __init__(self) -> None:
        self.waits: list[float] = []

    def __call__(self, seconds: float) -> None:
        self.waits.append(seconds)

    @property
    def total(self) -> float:
        """Seconds the transport would have slept."""
        return sum(self.waits)


@pytest.fixture
def fake_ibm() -> Iterator[FakeIBMCloud]:
    """The fake IBM cloud, intercepting ``requests`` for the test."""
    fake = FakeIBMCloud()
    with fake.active():
        yield fake


@pytest.fixture
def no_sleep() -> SleepRecorder:
    """A ``sleep`` for transports that records the waits instead of waiting."""
    return SleepRecorder()


@pytest.fixture
def runtime_transport(fake_ibm: FakeIBMCloud, no_sleep: SleepRecorder) -> Iterator[Transport]:
    """A transport to the fake's us-east runtime API, as the key's open instance."""
    auth = RuntimeAuth(IAMAuth(fake_ibm.api_key, fake_ibm.iam_url), service_crn=fake_ibm.crn)
    with Transport(fake_ibm.runtime_url, auth=auth, sleep=no_sleep) as transport:
        yield transport


@pytest.fixture
def runtime_api(runtime_transport: Transport) -> RuntimeAPI:
    """A :class:`RuntimeAPI` on the fake's us-east runtime API."""
    return RuntimeAPI(runtime_transport)
