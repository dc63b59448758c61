"""Large answers over HTTP: no ETag hashing, and the encoding never holds the event loop."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
import requests

from jupyter_qrt.local.server import LocalService

from .core_helpers import IDEAL, bell, sampler_body

GRANT = "urn:ibm:params:oauth:grant-type:apikey"
# Generous bounds: the machine is shared; a healthy run passes each step in well under a second.
REQUEST_TIMEOUT = 30
HOLD_TIMEOUT = 60


@pytest.fixture(scope="module")
def service(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalService]:
    with LocalService(tmp_path_factory.mktemp("bodies-data"), workers=1) as running:
        yield running


@pytest.fixture(scope="module")
def headers(service: LocalService) -> dict[str, str]:
    answer = requests.post(
        f"{service.url}/identity/token",
        data={"grant_type": GRANT, "apikey": service.api_key},
        timeout=REQUEST_TIMEOUT,
    )
    answer.raise_for_status()
    return {
        "Authorization": f"Bearer {answer.json()['access_token']}",
        "Service-CRN": service.instance,
    }


@pytest.fixture(scope="module")
def job_id(service: LocalService) -> str:
    crn = service.instance
    job: dict[str, Any] = service.runtime.create_job(
        crn, "u", sampler_body(IDEAL, bell(24), shots=20_000)
    )
    assert service.runtime.wait_for_job(crn, job["id"])["state"]["status"] == "Completed"
    return str(job["id"])


def test_large_gets_carry_no_etag_and_ignore_if_none_match(
    service: LocalService, headers: dict[str, str], job_id: str
) -> None:
    for path in (
        f"/jobs/{job_id}/results",
        "/jobs",
        "/backends",
        f"/backends/{IDEAL}/configuration",
    ):
        url = service.api_url + path
        answer = requests.get(url, headers=headers, timeout=REQUEST_TIMEOUT)
        assert answer.status_code == 200, path
        assert "Etag" not in answer.headers, path
        assert answer.headers["Cache-Control"] == "no-store"
        # With no ETag computed, a conditional GET is answered in full, never 304 and empty.
        again = requests.get(
            url, headers={**headers, "If-None-Match": "*"}, timeout=REQUEST_TIMEOUT
        )
        assert again.status_code == 200, path
        assert again.content == answer.content


def test_a_small_request_is_answered_while_a_large_body_is_encoded(
    service: LocalService,
    headers: dict[str, str],
    job_id: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    entered = threading.Event()
    release = threading.Event()
    text = service.runtime.job_results(service.instance, job_id)

    class HeldText(str):
        """Result text whose UTF-8 encoding waits until the test lets it go on."""

        def encode(self, encoding: str = "utf-8", errors: str = "strict") -> bytes:
            entered.set()
            release.wait(HOLD_TIMEOUT)  # bounded: a held event loop must not hang the suite
            return str(self).encode(encoding, errors)

    monkeypatch.setattr(service.runtime, "job_results", lambda crn, job: HeldText(text))
    try:
        with ThreadPoolExecutor(max_workers=1) as pool:
            large = pool.submit(
                requests.get,
                f"{service.api_url}/jobs/{job_id}/results",
                headers=headers,
                timeout=REQUEST_TIMEOUT + HOLD_TIMEOUT,
            )
            assert entered.wait(HOLD_TIMEOUT)
            # Encoded on the event loop, this one would wait for the large one (and time out).
            small = requests.get(
                f"{service.api_url}/instances/usage", headers=headers, timeout=REQUEST_TIMEOUT
            )
            assert small.status_code == 200
            release.set()
            answer = large.result(timeout=REQUEST_TIMEOUT + HOLD_TIMEOUT)
        assert answer.status_code == 200
        assert answer.text == text
    finally:
        release.set()


def test_backend_documents_and_logs_are_served_whole(
    service: LocalService, headers: dict[str, str], job_id: str, tmp_path: Path
) -> None:
    for _ in range(2):  # the second from the cache
        configuration = requests.get(
            f"{service.api_url}/backends/{IDEAL}/configuration",
            headers=headers,
            timeout=REQUEST_TIMEOUT,
        )
        assert configuration.json() == service.runtime.backend_configuration(
            service.instance, IDEAL
        )
    logs = requests.get(
        f"{service.api_url}/jobs/{job_id}/logs", headers=headers, timeout=REQUEST_TIMEOUT
    )
    assert logs.status_code == 200
    assert logs.headers["Content-Type"].startswith("text/plain")
    assert logs.text == service.runtime.job_logs(service.instance, job_id)
