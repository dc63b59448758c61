"""Job and session options over HTTP that must do what IBM's do, not be silently ignored:
``private`` jobs, ``updated_before`` on job lists, ``interactive_ttl`` on sessions."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import pytest

from jupyter_qrt.local.server import LocalService
from jupyter_qrt.local.store.timestamps import iso_z, parse_instant

from .core_helpers import IDEAL, bell, sampler_params
from .test_app import Api, _assert_ibm_error, _wait_final


@pytest.fixture(scope="module")
def service(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalService]:
    with LocalService(tmp_path_factory.mktemp("options-http"), workers=1) as running:
        yield running


@pytest.fixture(scope="module")
def api(service: LocalService) -> Api:
    return Api(service)


def _bell_body(**extra: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "program_id": "sampler",
        "backend": IDEAL,
        "params": sampler_params(bell(), shots=50),
    }
    body.update(extra)
    return body


def _cheap_body(**extra: Any) -> dict[str, Any]:
    # A bad pub: the job fails fast when it runs.
    body: dict[str, Any] = {
        "program_id": "sampler",
        "backend": IDEAL,
        "params": {"pubs": [["not a circuit", None, 10]], "version": 2},
    }
    body.update(extra)
    return body


# ---------------------------------------------------------------------------------- private
def test_a_private_jobs_params_are_never_returned_and_its_results_read_once(api: Api) -> None:
    created = api.call("POST", "/jobs", json=_bell_body(private=True)).json()
    assert created["private"] is True
    job_id = created["id"]
    # Not even when asked for (IBM: the params of a private job are never returned).
    details = api.call("GET", f"/jobs/{job_id}", params={"exclude_params": "false"}).json()
    assert details["private"] is True
    assert "params" not in details
    assert _wait_final(api, job_id)["state"]["status"] == "Completed"
    assert "params" not in api.call("GET", f"/jobs/{job_id}").json()
    first = api.call("GET", f"/jobs/{job_id}/results")
    assert first.status_code == 200, first.text
    assert "PrimitiveResult" in first.text
    # Read once, then deleted.
    again = _assert_ibm_error(api.call("GET", f"/jobs/{job_id}/results"), 404)
    message = again["errors"][0]["message"]
    assert "private" in message
    assert "once" in message


def test_a_public_jobs_params_and_results_stay(api: Api) -> None:
    job_id = api.call("POST", "/jobs", json=_bell_body()).json()["id"]
    assert _wait_final(api, job_id)["state"]["status"] == "Completed"
    details = api.call("GET", f"/jobs/{job_id}").json()
    assert details["params"]["version"] == 2
    assert len(details["params"]["pubs"]) == 1
    for _ in range(2):
        assert api.call("GET", f"/jobs/{job_id}/results").status_code == 200


# ---------------------------------------------------------------------------- updated_before
def _listed(api: Api, tag: str, **params: str) -> list[str]:
    answer = api.call("GET", "/jobs", params={"tags": tag, **params})
    assert answer.status_code == 200, answer.text
    return [job["id"] for job in answer.json()["jobs"]]


def test_updated_before_lists_the_jobs_last_changed_by_then(api: Api, unique_tag: str) -> None:
    first = api.call("POST", "/jobs", json=_cheap_body(tags=[unique_tag])).json()["id"]
    assert _wait_final(api, first)["state"]["status"] == "Failed"
    metrics = api.call("GET", f"/jobs/{first}/metrics").json()
    finished = parse_instant(metrics["timestamps"]["finished"])
    time.sleep(0.01)  # the second job is created strictly after the first ended
    second = api.call("POST", "/jobs", json=_cheap_body(tags=[unique_tag])).json()["id"]
    assert set(_listed(api, unique_tag)) == {first, second}
    assert _listed(api, unique_tag, updated_before=iso_z(finished)) == [first]
    # Created before then, but changed (ran, ended) after: not listed.
    created = parse_instant(api.call("GET", f"/jobs/{first}").json()["created"])
    assert _listed(api, unique_tag, updated_before=iso_z(created)) == []
    _assert_ibm_error(api.call("GET", "/jobs", params={"updated_before": "last week"}), 400)


# ---------------------------------------------------------------------------- interactive_ttl
def test_a_session_takes_the_interactive_ttl_it_is_given(api: Api) -> None:
    body = {"mode": "dedicated", "backend": IDEAL, "max_ttl": 600, "interactive_ttl": 5}
    created = api.call("POST", "/sessions", json=body)
    assert created.status_code == 200, created.text
    assert created.json()["interactive_ttl"] == 5
    assert api.call("GET", f"/sessions/{created.json()['id']}").json()["interactive_ttl"] == 5


@pytest.mark.parametrize("bad", [0, -1, 1.5, "60", True, 601])
def test_a_bad_interactive_ttl_gets_400_saying_what_to_send(api: Api, bad: object) -> None:
    body = {"mode": "dedicated", "backend": IDEAL, "max_ttl": 600, "interactive_ttl": bad}
    error = _assert_ibm_error(api.call("POST", "/sessions", json=body), 400)
    assert "interactive_ttl" in error["errors"][0]["message"]
    assert "max_ttl" in error["errors"][0]["message"]
