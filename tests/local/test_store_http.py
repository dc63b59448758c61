"""What HTTP clients see when the service's database is locked or full: a clear 503 that says
nothing was changed, and a service that works again as soon as the database does."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from typing import Any

import pytest
import requests

from jupyter_qrt.local.server import LocalService
from jupyter_qrt.local.store.database import Store

from .test_app import Api

DEVICE = "qrt_wren"


@pytest.fixture(scope="module")
def service(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalService]:
    with LocalService(tmp_path_factory.mktemp("store-http"), workers=1) as running:
        yield running


@pytest.fixture(scope="module")
def api(service: LocalService) -> Api:
    return Api(service)


def _store(service: LocalService) -> Store:
    store: Store = service.runtime._store  # the service's own connection, to make it fail
    return store


def _job_body(padding: int = 0) -> dict[str, Any]:
    # A bad pub: the job fails fast when it runs, and needs no qiskit to build.
    params: dict[str, Any] = {"pubs": [["not a circuit", None, 10]], "version": 2}
    if padding:
        params["padding"] = "x" * padding
    return {"program_id": "sampler", "backend": DEVICE, "params": params}


def _job_count(api: Api) -> int:
    answer = api.call("GET", "/jobs", params={"limit": 0})
    assert answer.status_code == 200, answer.text
    return int(answer.json()["count"])


def _assert_503(answer: requests.Response, words: str) -> None:
    assert answer.status_code == 503, answer.text
    message = answer.json()["errors"][0]["message"]
    assert words in message
    assert "Nothing was changed" in message


def test_a_full_database_gets_503_and_the_service_works_again(
    service: LocalService, api: Api
) -> None:
    store = _store(service)
    before = _job_count(api)
    with store.reading() as conn:
        pages = conn.execute("PRAGMA page_count").fetchone()[0]
        conn.execute(f"PRAGMA max_page_count={pages}")  # as if the disk were full
    try:
        _assert_503(api.call("POST", "/jobs", json=_job_body(padding=50_000)), "full")
    finally:
        with store.reading() as conn:
            conn.execute(f"PRAGMA max_page_count={2**30}")
    assert _job_count(api) == before
    answer = api.call("POST", "/jobs", json=_job_body(padding=50_000))
    assert answer.status_code == 200, answer.text
    assert _job_count(api) == before + 1


def test_a_locked_database_gets_503_and_the_service_works_again(
    service: LocalService, api: Api
) -> None:
    store = _store(service)
    job_id = api.call("POST", "/jobs", json=_job_body()).json()["id"]
    before = _job_count(api)
    with store.reading() as conn:
        conn.execute("PRAGMA busy_timeout=200")
    other = sqlite3.connect(store.path, isolation_level=None)
    try:
        other.execute("BEGIN IMMEDIATE")  # another program holds the write lock
        _assert_503(api.call("POST", "/jobs", json=_job_body()), "busy")
        _assert_503(api.call("PUT", f"/jobs/{job_id}/tags", json={"tags": ["x"]}), "busy")
        # Reads go on meanwhile (WAL).
        assert api.call("GET", f"/jobs/{job_id}").status_code == 200
    finally:
        other.execute("ROLLBACK")
        other.close()
        with store.reading() as conn:
            conn.execute("PRAGMA busy_timeout=10000")
    assert _job_count(api) == before
    assert api.call("POST", "/jobs", json=_job_body()).status_code == 200
    answer = api.call("PUT", f"/jobs/{job_id}/tags", json={"tags": ["x"]})
    assert answer.status_code == 204, answer.text
