"""The local service over HTTP: routing, error bodies, size limit, cloud calls, a job end to end."""

from __future__ import annotations

import json
import logging
import os
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests

from jupyter_qrt.local.http.base import PUBLIC_BODY_LIMIT
from jupyter_qrt.local.http.openapi import load_openapi
from jupyter_qrt.local.server import LocalService

from .core_helpers import cheap_body

GRANT = "urn:ibm:params:oauth:grant-type:apikey"
BODY_LIMIT = 100_000
IDEAL = "qrt_ideal_simulator"


class Api:
    """Calls of a client holding the default key: bearer, Service-CRN, JSON."""

    def __init__(self, service: LocalService) -> None:
        self.service = service
        answer = requests.post(
            f"{service.url}/identity/token",
            data={"grant_type": GRANT, "apikey": service.api_key},
            timeout=30,
        )
        answer.raise_for_status()
        self.token = answer.json()["access_token"]
        self.headers = {
            "Authorization": f"Bearer {self.token}",
            "Service-CRN": service.instance,
            "Accept": "application/json",
        }

    def call(
        self, method: str, path: str, *, base: str | None = None, **kwargs: Any
    ) -> requests.Response:
        headers = {**self.headers, **kwargs.pop("headers", {})}
        url = (base if base is not None else self.service.api_url) + path
        return requests.request(method, url, headers=headers, timeout=30, **kwargs)


@pytest.fixture(scope="module")
def service(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalService]:
    data_dir = tmp_path_factory.mktemp("app-data")
    with LocalService(data_dir, workers=1, max_body_bytes=BODY_LIMIT) as running:
        yield running


@pytest.fixture(scope="module")
def api(service: LocalService) -> Api:
    return Api(service)


def _assert_ibm_error(answer: requests.Response, status: int) -> dict[str, Any]:
    assert answer.status_code == status, answer.text
    assert answer.headers["Content-Type"].startswith("application/json")
    body: dict[str, Any] = answer.json()
    assert body["status_code"] == status
    (error,) = body["errors"]
    assert set(error) == {"code", "message", "more_info", "solution"}
    assert error["message"]
    assert body["error"] == {"code": error["code"], "message": error["message"]}
    assert body["trace"] == answer.headers["uber-trace-id"]
    return body


# -- routing -------------------------------------------------------------------------------------


def test_runtime_api_is_served_under_api_v1_and_any_prefix(service: LocalService, api: Api) -> None:
    names = []
    for prefix in ("/api/v1", "/experimental/api/v1", "/some/where/api/v1"):
        answer = api.call("GET", "/backends", base=service.url + prefix)
        assert answer.status_code == 200, prefix
        names.append(sorted(device["name"] for device in answer.json()["devices"]))
    assert names[0] == names[1] == names[2]
    assert IDEAL in names[0]


def test_backend_documents_and_unknown_backend(api: Api) -> None:
    configuration = api.call("GET", f"/backends/{IDEAL}/configuration").json()
    assert configuration["backend_name"] == IDEAL
    assert configuration["simulator"] is True
    status = api.call("GET", f"/backends/{IDEAL}/status").json()
    assert status["state"] is True
    assert status["length_queue"] >= 0
    assert api.call("GET", f"/backends/{IDEAL}/properties").status_code == 200
    body = _assert_ibm_error(api.call("GET", "/backends/qrt_nowhere/configuration"), 404)
    assert "qrt_nowhere" in body["errors"][0]["message"]


def test_backend_documents_are_served_as_the_device_holds_them(
    service: LocalService, api: Api
) -> None:
    # Encoded once per device and served from then on: every answer is the device's document.
    crn = service.instance
    for _ in range(2):
        configuration = api.call("GET", f"/backends/{IDEAL}/configuration")
        assert configuration.headers["Content-Type"].startswith("application/json")
        assert configuration.json() == service.runtime.backend_configuration(crn, IDEAL)
        assert api.call("GET", f"/backends/{IDEAL}/properties").json() == {}  # no calibrations
    devices = api.call("GET", "/backends").json()["devices"]
    device = next(d["name"] for d in devices if d["name"] != IDEAL)
    properties = api.call("GET", f"/backends/{device}/properties").json()
    assert properties == service.runtime.backend_properties(crn, device)
    assert properties["qubits"]


def test_unknown_paths_and_methods_get_ibm_errors(service: LocalService, api: Api) -> None:
    _assert_ibm_error(api.call("GET", "/nothing-here"), 404)
    _assert_ibm_error(api.call("POST", "/not/here", base=service.url), 404)
    _assert_ibm_error(api.call("GET", "/jobs/no-such-job"), 404)
    _assert_ibm_error(api.call("DELETE", "/backends"), 405)


def test_openapi_description_is_served(service: LocalService) -> None:
    answer = requests.get(f"{service.url}/openapi.json", timeout=30)
    assert answer.status_code == 200
    assert "/api/v1/jobs" in answer.json()["paths"]


# -- bodies --------------------------------------------------------------------------------------


def test_malformed_json_gets_400_with_the_parsers_words(api: Api) -> None:
    body = _assert_ibm_error(
        api.call("POST", "/jobs", data=b'{"program_id": "sampler",', headers=_json()), 400
    )
    assert "not valid JSON" in body["errors"][0]["message"]
    body = _assert_ibm_error(api.call("POST", "/jobs", data=b"[1, 2]", headers=_json()), 400)
    assert "JSON object" in body["errors"][0]["message"]
    _assert_ibm_error(api.call("PUT", "/jobs/x/tags", json={"tags": "one"}), 400)


def _json() -> dict[str, str]:
    return {"Content-Type": "application/json"}


def test_a_body_over_the_limit_gets_413_and_the_service_goes_on(api: Api) -> None:
    big = b'{"program_id": "' + b"x" * (BODY_LIMIT + 10) + b'"}'
    _assert_ibm_error(api.call("POST", "/jobs", data=big, headers=_json()), 413)

    def chunks() -> Iterator[bytes]:  # no Content-Length: the limit is checked as bytes arrive
        for _ in range(30):
            yield b" " * 5_000

    _assert_ibm_error(api.call("POST", "/jobs", data=chunks(), headers=_json()), 413)
    assert api.call("GET", "/instances/usage").status_code == 200


def test_public_endpoints_read_small_bodies_only(service: LocalService, api: Api) -> None:
    # The token exchange is open to anyone: it must not read (or parse) megabytes for them.
    token_url = f"{service.url}/identity/token"
    assert PUBLIC_BODY_LIMIT + 20_000 < BODY_LIMIT  # bodies under the service's limit below
    form = {"grant_type": GRANT, "apikey": service.api_key, "padding": "x" * PUBLIC_BODY_LIMIT}
    body = _assert_ibm_error(requests.post(token_url, data=form, timeout=30), 413)
    assert str(PUBLIC_BODY_LIMIT) in body["errors"][0]["message"]

    def chunks() -> Iterator[bytes]:  # no Content-Length: the limit is checked as bytes arrive
        yield f"grant_type={GRANT}&apikey={service.api_key}&padding=".encode()
        for _ in range(15):
            yield b"x" * 5_000

    _assert_ibm_error(requests.post(token_url, data=chunks(), timeout=30), 413)
    for path in ("/openapi.json", "/no/such/path"):
        big = b"x" * (PUBLIC_BODY_LIMIT + 1)
        _assert_ibm_error(requests.post(f"{service.url}{path}", data=big, timeout=30), 413)

    many = "&".join(f"field{index}=1" for index in range(100))
    crowded = requests.post(
        token_url,
        data=f"grant_type={GRANT}&apikey={service.api_key}&{many}",
        headers={"Content-Type": "application/x-www-form-urlencoded"},
        timeout=30,
    )
    assert crowded.status_code == 400
    assert set(crowded.json()) == {"errorCode", "errorMessage", "context"}
    assert "fields" in crowded.json()["errorMessage"]
    # A client's form, with the fields it adds, is still exchanged.
    assert Api(service).token


def test_a_server_error_logs_the_trace_it_answers(
    service: LocalService,
    api: Api,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    def broken(crn: str) -> dict[str, Any]:
        raise RuntimeError("a bug in the core")

    monkeypatch.setattr(service.runtime, "usage", broken)
    caplog.set_level(logging.ERROR, logger="jupyter_qrt.local.http.base")
    body = _assert_ibm_error(api.call("GET", "/instances/usage"), 500)
    assert "report the trace id" in body["errors"][0]["message"]
    logged = [
        record.getMessage()
        for record in caplog.records
        if record.name == "jupyter_qrt.local.http.base" and record.levelno == logging.ERROR
    ]
    assert [line for line in logged if body["trace"] in line and "/instances/usage" in line]
    # Answers under 500 carry a trace too, but are not errors of the service: not logged so.
    caplog.clear()
    trace = _assert_ibm_error(api.call("GET", "/jobs/no-such-job"), 404)["trace"]
    assert trace not in caplog.text


def test_content_type_leaking_into_gets_is_tolerated(api: Api) -> None:
    # The official client keeps a POST's Content-Type on its session for later GETs.
    answer = api.call("GET", "/jobs", params={"limit": 1}, headers=_json())
    assert answer.status_code == 200
    assert set(answer.json()) >= {"jobs", "count"}


def test_bad_query_arguments_get_400(api: Api) -> None:
    for params in (
        {"limit": "many"},
        {"limit": ""},
        {"offset": -1},
        {"offset": 2**70},
        {"pending": "maybe"},
        {"sort": "UP"},
    ):
        _assert_ibm_error(api.call("GET", "/jobs", params=params), 400)
    _assert_ibm_error(api.call("GET", "/jobs", params={"created_after": "yesterday"}), 400)


def test_a_page_of_jobs_holds_at_most_200(api: Api) -> None:
    assert api.call("GET", "/jobs", params={"limit": 10_000}).json()["limit"] == 200


def test_the_official_clients_error_parser_shows_our_message(service: LocalService) -> None:
    from qiskit_ibm_runtime.api.exceptions import RequestsApiError
    from qiskit_ibm_runtime.api.session import RetrySession

    session = RetrySession(service.api_url, retries_total=0)
    api = Api(service)
    with pytest.raises(RequestsApiError) as raised:
        session.request("GET", "/backends/qrt_nowhere/status", headers=api.headers)
    text = str(raised.value)
    answer = api.call("GET", "/backends/qrt_nowhere/status").json()
    assert answer["errors"][0]["message"] in text
    assert f"Error code: {answer['errors'][0]['code']}." in text
    assert '"errors"' not in text  # parsed, not the raw body appended


# -- IBM Cloud calls the official client makes ---------------------------------------------------


def test_global_search_lists_the_keys_instance_and_catalog_prices_it(
    service: LocalService, api: Api
) -> None:
    answer = requests.post(
        f"{service.url}/globalsearch/v3/resources/search",
        params={"limit": 100},
        json={
            "query": "service_name:quantum-computing",
            "fields": ["crn", "service_plan_unique_id", "name", "doc", "tags"],
        },
        headers={"Authorization": f"Bearer {api.token}"},
        timeout=30,
    )
    assert answer.status_code == 200
    body = answer.json()
    assert not body.get("search_cursor")
    (item,) = body["items"]
    assert item["crn"] == service.instance
    assert item["doc"]["extensions"]
    entry = requests.get(
        f"{service.url}/globalcatalog/{item['service_plan_unique_id']}", timeout=30
    ).json()
    instance = service.runtime.instance(service.instance)
    assert entry["overview_ui"]["en"]["display_name"].lower() == instance.plan
    assert entry["metadata"]["pricing"]["type"] == instance.pricing_type
    assert requests.get(f"{service.url}/globalcatalog/nope", timeout=30).status_code == 404
    search_without_token = requests.post(
        f"{service.url}/globalsearch/v3/resources/search", json={}, timeout=30
    )
    _assert_ibm_error(search_without_token, 401)


def test_global_search_takes_an_empty_body_and_checks_its_limit(
    service: LocalService, api: Api
) -> None:
    search_url = f"{service.url}/globalsearch/v3/resources/search"
    bearer = {"Authorization": f"Bearer {api.token}"}
    empty = requests.post(search_url, headers=bearer, timeout=30)
    assert empty.status_code == 200
    assert [item["crn"] for item in empty.json()["items"]] == [service.instance]
    assert empty.json()["limit"] == 10
    # "²" is a digit to str.isdigit() but no integer to int(): a 400, not a server error.
    for limit in ("²", "0", "1001", "ten", "", "-1"):
        answer = requests.post(
            search_url, params={"limit": limit}, json={}, headers=bearer, timeout=30
        )
        body = _assert_ibm_error(answer, 400)
        assert "1 to 1000" in body["errors"][0]["message"]
    malformed = requests.post(search_url, data=b"{", headers=bearer, timeout=30)
    assert "not valid JSON" in _assert_ibm_error(malformed, 400)["errors"][0]["message"]


# -- a job and a session end to end --------------------------------------------------------------


def _bell_job_body(shots: int) -> str:
    import numpy as np
    from qiskit import QuantumCircuit
    from qiskit_ibm_runtime import RuntimeEncoder

    bell = QuantumCircuit(2)
    bell.h(0)
    bell.cx(0, 1)
    bell.measure_all()
    body = {
        "program_id": "sampler",
        "backend": IDEAL,
        "params": {
            "pubs": [[bell, np.empty((0,), dtype=np.float64), shots]],
            "options": {},
            "version": 2,
            "support_qiskit": True,
        },
        "log_level": "WARNING",
        "tags": ["app-test"],
    }
    return json.dumps(body, cls=RuntimeEncoder)


def _wait_final(api: Api, job_id: str) -> dict[str, Any]:
    for _ in range(600):
        details: dict[str, Any] = api.call(
            "GET", f"/jobs/{job_id}", params={"exclude_params": "true"}
        ).json()
        if details["state"]["status"] in {"Completed", "Failed", "Cancelled"}:
            return details
        time.sleep(0.1)
    raise AssertionError(f"job {job_id} did not end")


def test_a_sampler_job_runs_and_its_result_decodes(api: Api) -> None:
    from qiskit_ibm_runtime import RuntimeDecoder

    created = api.call("POST", "/jobs", data=_bell_job_body(400), headers=_json())
    assert created.status_code == 200, created.text
    job_id = created.json()["id"]
    assert created.json()["backend"] == IDEAL
    details = _wait_final(api, job_id)
    assert details["state"]["status"] == "Completed", details
    assert details["program"]["id"] == "sampler"
    results = api.call("GET", f"/jobs/{job_id}/results")
    assert results.status_code == 200
    assert results.headers["Content-Type"].startswith("application/json")
    result = json.loads(results.text, cls=RuntimeDecoder)
    counts = result[0].data.meas.get_counts()
    assert sum(counts.values()) == 400
    assert set(counts) <= {"00", "11"}

    with_params = api.call("GET", f"/jobs/{job_id}").json()
    assert with_params["params"]["version"] == 2
    metrics = api.call("GET", f"/jobs/{job_id}/metrics")
    assert metrics.status_code == 200
    assert "timestamps" in metrics.json()
    logs = api.call("GET", f"/jobs/{job_id}/logs")
    assert logs.status_code == 200
    assert logs.headers["Content-Type"].startswith("text/plain")

    tagged = api.call("PUT", f"/jobs/{job_id}/tags", json={"tags": ["a", "b"]})
    assert tagged.status_code == 204
    assert tagged.content == b""
    assert api.call("GET", f"/jobs/{job_id}").json()["tags"] == ["a", "b"]
    listed = api.call("GET", "/jobs", params={"limit": 5, "exclude_params": "true"}).json()
    assert job_id in [job["id"] for job in listed["jobs"]]
    _assert_ibm_error(api.call("POST", f"/jobs/{job_id}/cancel"), 409)

    deleted = api.call("DELETE", f"/jobs/{job_id}")
    assert deleted.status_code == 204
    assert deleted.content == b""
    _assert_ibm_error(api.call("GET", f"/jobs/{job_id}"), 404)


def test_absurd_shot_counts_get_a_clear_400_and_store_nothing(api: Api) -> None:
    before = api.call("GET", "/jobs", params={"limit": 1}).json()["count"]
    huge = 10**400  # more than a float can hold
    default_shots = json.loads(_bell_job_body(10))
    default_shots["params"]["options"] = {"default_shots": huge}
    pub_shots = json.loads(_bell_job_body(10))
    pub_shots["params"]["pubs"][0][2] = huge
    no_shots = json.loads(_bell_job_body(10))
    no_shots["params"]["pubs"][0][2] = 0
    for body, named in (
        (default_shots, "default_shots"),
        (pub_shots, "shots"),
        (no_shots, "shots"),
    ):
        answer = api.call("POST", "/jobs", data=json.dumps(body), headers=_json())
        message = _assert_ibm_error(answer, 400)["errors"][0]["message"]
        assert named in message
        assert "1000000000" in message  # the range that is accepted
        assert "could not confirm" not in message
    # A number Python refuses to read at all (over 4300 digits) is a 400 too, not a 500.
    unreadable = json.dumps(pub_shots).replace(str(huge), "9" * 5000)
    answer = api.call("POST", "/jobs", data=unreadable, headers=_json())
    assert "too long" in _assert_ibm_error(answer, 400)["errors"][0]["message"]
    assert api.call("GET", "/jobs", params={"limit": 1}).json()["count"] == before


def test_session_create_read_stop_accepting_and_close(service: LocalService, api: Api) -> None:
    opened = api.call(
        "POST",
        "/sessions",
        json={"mode": "batch", "backend": IDEAL, "instance": service.instance},
    )
    assert opened.status_code == 200, opened.text
    session_id = opened.json()["id"]
    details = api.call("GET", f"/sessions/{session_id}").json()
    assert details["id"] == session_id
    assert details["accepting_jobs"] is True
    patched = api.call("PATCH", f"/sessions/{session_id}", json={"accepting_jobs": False})
    assert patched.status_code == 204
    assert api.call("GET", f"/sessions/{session_id}").json()["accepting_jobs"] is False
    closed = api.call("DELETE", f"/sessions/{session_id}/close")
    assert closed.status_code == 204
    _assert_ibm_error(api.call("GET", "/sessions/no-such-session"), 404)
    # A job sent to the closed session: 409, a status the description documents for POST /jobs.
    late = api.call("POST", "/jobs", json=cheap_body(IDEAL, session_id=session_id))
    error = _assert_ibm_error(late, 409)["errors"][0]
    assert "closed or no longer accepts jobs" in error["message"], error
    assert "409" in load_openapi()["paths"]["/api/v1/jobs"]["post"]["responses"]


def test_the_official_client_connects_with_no_arguments_after_the_env(
    service: LocalService, monkeypatch: pytest.MonkeyPatch
) -> None:
    from qiskit_ibm_runtime import QiskitRuntimeService

    for name, value in service.env().items():
        monkeypatch.setenv(name, value)
    official = QiskitRuntimeService()
    assert IDEAL in [backend.name for backend in official.backends()]
    assert official.active_account()["instance"] == service.instance
    assert official.usage()["usage_consumed_seconds"] >= 0


def _child_pids() -> set[int]:
    me = str(os.getpid())
    found = set()
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                status = (entry / "status").read_text()
            except OSError:
                continue
            if f"\nPPid:\t{me}\n" in status and "State:\tZ" not in status:
                found.add(int(entry.name))
    return found


def test_mounted_under_a_base_path_and_stopped_without_leftovers(tmp_path: Path) -> None:
    threads_before = set(threading.enumerate())
    children_before = _child_pids()
    with LocalService(tmp_path, base_path="/jupyter-qrt/local/", workers=1) as mounted:
        assert mounted.url.endswith("/jupyter-qrt/local")
        api = Api(mounted)
        assert api.call("GET", "/backends").status_code == 200
        root = mounted.url.removesuffix("/jupyter-qrt/local")
        assert requests.get(f"{root}/api/v1/backends", timeout=30).status_code == 404
        assert _child_pids() - children_before  # the worker process runs
        url = mounted.url
    assert set(threading.enumerate()) <= threads_before
    assert not _child_pids() - children_before
    with pytest.raises(requests.ConnectionError):
        requests.get(f"{url}/openapi.json", timeout=5)
