"""``GET /jobs/{id}/results`` says what its body is: JSON for a result, plain text for a reason.

A job that ended badly has no result: the service answers its reason in words (the official
client shows that text as the job's error). That text is not JSON, so it must not be labelled
``application/json``; the OpenAPI description documents both media types.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from typing import Any

import pytest
import requests

from jupyter_qrt.local.http.openapi import load_openapi
from jupyter_qrt.local.server import LocalService

from .core_helpers import IDEAL, cheap_body, sampler_body

GRANT = "urn:ibm:params:oauth:grant-type:apikey"
WAIT = 60.0


@pytest.fixture(scope="module")
def api(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, requests.Session]]:
    """The runtime API base URL and a session holding the default key's bearer and instance."""
    with LocalService(tmp_path_factory.mktemp("results-data"), workers=1) as service:
        token = requests.post(
            f"{service.url}/identity/token",
            data={"grant_type": GRANT, "apikey": service.api_key},
            timeout=30,
        ).json()["access_token"]
        with requests.Session() as http:
            http.headers.update(
                {"Authorization": f"Bearer {token}", "Service-CRN": service.instance}
            )
            yield service.api_url, http


def _run_to_the_end(api: tuple[str, requests.Session], body: dict[str, Any]) -> str:
    base, http = api
    created = http.post(f"{base}/jobs", json=body, timeout=30)
    assert created.status_code == 200, created.text
    job_id: str = created.json()["id"]
    deadline = time.monotonic() + WAIT
    while http.get(f"{base}/jobs/{job_id}", timeout=30).json()["state"]["status"] not in {
        "Completed",
        "Failed",
        "Cancelled",
    }:
        assert time.monotonic() < deadline, f"job {job_id} did not end within {WAIT}s"
        time.sleep(0.05)  # poll interval of the bounded wait above
    return job_id


def test_a_failed_jobs_results_are_its_reason_as_plain_text(
    api: tuple[str, requests.Session],
) -> None:
    base, http = api
    job_id = _run_to_the_end(api, cheap_body(IDEAL))  # its pub is not a circuit: Failed
    reason = http.get(f"{base}/jobs/{job_id}", timeout=30).json()["state"]["reason"]
    answer = http.get(f"{base}/jobs/{job_id}/results", timeout=30)
    assert answer.status_code == 200
    assert answer.headers["Content-Type"].startswith("text/plain"), answer.headers
    assert answer.text == reason


def test_a_completed_jobs_results_are_json(api: tuple[str, requests.Session]) -> None:
    base, http = api
    job_id = _run_to_the_end(api, sampler_body(IDEAL, shots=10))
    answer = http.get(f"{base}/jobs/{job_id}/results", timeout=30)
    assert answer.status_code == 200
    assert answer.headers["Content-Type"].startswith("application/json"), answer.headers
    assert json.loads(answer.text)["__type__"] == "PrimitiveResult"


def test_the_description_documents_both_media_types() -> None:
    answer = load_openapi()["paths"]["/api/v1/jobs/{job_id}/results"]["get"]["responses"]["200"]
    assert set(answer["content"]) == {"application/json", "text/plain"}
