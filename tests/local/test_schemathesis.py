"""schemathesis against the OpenAPI description of the local service: no 5xx, ever.

One test per operation of the description, each with a bounded number of generated requests
(valid and invalid ones) sent over HTTP to a real :class:`LocalService`, with a valid bearer token
and ``Service-CRN``. A request the service cannot handle must get a 4xx with a message, never a
5xx; every answer must use a documented status code and content type and match its schema.

The stateful phase follows the description's OpenAPI links: it creates jobs (tiny ones: a Bell
pair, a few shots) and sessions, then reads, tags, cancels, deletes and closes what it created;
the test proves those linked calls really reached the created resources, and schemathesis'
stateful checks (a created resource is there; a deleted one is gone) hold.

Every operation that needs auth is also sent, with generated requests, a missing bearer, an
expired one (signed with the service's own secret) and a foreign one (signed with another
secret): each must be refused with 401 and the message saying which.

The description is the packaged ``openapi.json`` (loaded at collection time, which needs no
service); the first test proves it is exactly what the live service serves at ``/openapi.json``.
schemathesis' ``from_fixture`` loader cannot be used: it sets ``Function._nodeid``, which pytest 9
no longer has.

Generation is deterministic (``derandomize``, no example database) so CI does not flake.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Iterator
from typing import Any

import hypothesis
import pytest
import requests
import schemathesis
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    ensure_resource_availability,
    response_schema_conformance,
    status_code_conformance,
    use_after_free,
)

from jupyter_qrt.local.http.openapi import load_openapi
from jupyter_qrt.local.identity.iam import TokenSigner
from jupyter_qrt.local.server import LocalService

from .core_helpers import IDEAL, bell, sampler_body

GRANT = "urn:ibm:params:oauth:grant-type:apikey"
EXAMPLES_PER_OPERATION = 25
UNAUTHORIZED_EXAMPLES_PER_OPERATION = 4  # x 3 bearers x every operation that needs auth
STATEFUL_SCENARIOS = 60
STATEFUL_STEPS = 12
TINY_SHOTS = 8  # jobs the stateful phase creates run a Bell pair: a worker ends them at once
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]

STATEFUL_CHECKS = [*CHECKS, use_after_free, ensure_resource_availability]

#: What the service answers each kind of bad bearer (the start of its 401 message).
REFUSALS = {
    "missing": "This call needs 'Authorization: Bearer <token>'",
    "expired": "The bearer token has expired",
    "foreign": "The bearer token was not issued by this service (bad signature)",
}
FOREIGN_SECRET = b"fake-secret-of-another-service-not-a-real-one"

schema = schemathesis.openapi.from_dict(
    load_openapi(),
    config=schemathesis.Config.from_dict(
        {
            "request-timeout": 30,
            "generation": {
                "max-examples": EXAMPLES_PER_OPERATION,
                "deterministic": True,
                "database": "none",
            },
        }
    ),
)


def _needs_auth(ctx: Any) -> bool:
    return bool(ctx.operation.definition.raw.get("security"))


unauthorized_schema = schemathesis.openapi.from_dict(
    load_openapi(),
    config=schemathesis.Config.from_dict(
        {
            "request-timeout": 30,
            "generation": {
                "max-examples": UNAUTHORIZED_EXAMPLES_PER_OPERATION,
                "deterministic": True,
                "database": "none",
            },
        }
    ),
).include(func=_needs_auth)

# Links only as the description declares them: no inferred ones, no calibration.
stateful_schema = schemathesis.openapi.from_dict(
    load_openapi(),
    config=schemathesis.Config.from_dict(
        {
            "request-timeout": 30,
            "generation": {"deterministic": True, "database": "none"},
            "phases": {
                "stateful": {
                    "max-steps": STATEFUL_STEPS,
                    "inference": {"algorithms": []},
                    "link-calibration": False,
                }
            },
        }
    ),
)


@pytest.fixture(scope="module")
def live_service(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalService]:
    # A small body limit keeps generated bodies cheap; one worker runs the jobs that get through.
    data_dir = tmp_path_factory.mktemp("schemathesis-data")
    with LocalService(data_dir, workers=1, max_body_bytes=200_000) as service:
        yield service


@pytest.fixture(scope="module")
def auth_headers(live_service: LocalService) -> dict[str, str]:
    """A valid bearer (from the service's IAM, for its default key) and the key's instance."""
    answer = requests.post(
        f"{live_service.url}/identity/token",
        data={"grant_type": GRANT, "apikey": live_service.api_key},
        timeout=30,
    )
    answer.raise_for_status()
    return {
        "Authorization": f"Bearer {answer.json()['access_token']}",
        "Service-CRN": live_service.instance,
    }


def test_the_live_service_serves_the_packaged_description(live_service: LocalService) -> None:
    served = requests.get(f"{live_service.url}/openapi.json", timeout=30)
    assert served.status_code == 200
    assert served.json() == load_openapi()


@schema.parametrize()
def test_no_request_gets_a_server_error(
    case: schemathesis.Case[Any], live_service: LocalService, auth_headers: dict[str, str]
) -> None:
    case.call_and_validate(base_url=live_service.url, headers=auth_headers, checks=CHECKS)


@pytest.fixture(scope="module")
def bad_bearers(live_service: LocalService) -> dict[str, dict[str, str]]:
    """The headers of each kind of refused bearer, with the key's own (valid) instance."""
    key = live_service.runtime.verify_api_key(live_service.api_key)
    assert key is not None
    an_hour_ago = TokenSigner.from_data_dir(
        live_service.data_dir, clock=lambda: time.time() - 2 * 3600
    )
    expired = an_hour_ago.issue(key)["access_token"]
    foreign = TokenSigner(FOREIGN_SECRET).issue(key)["access_token"]
    crn = {"Service-CRN": live_service.instance}
    return {
        "missing": crn,
        "expired": {**crn, "Authorization": f"Bearer {expired}"},
        "foreign": {**crn, "Authorization": f"Bearer {foreign}"},
    }


@pytest.mark.parametrize("bearer", sorted(REFUSALS))
@unauthorized_schema.parametrize()
def test_every_operation_needing_auth_refuses_a_bad_bearer(
    case: schemathesis.Case[Any],
    bearer: str,
    live_service: LocalService,
    bad_bearers: dict[str, dict[str, str]],
) -> None:
    """Whatever the rest of the request, a missing, expired or foreign bearer gets a 401."""
    if case.method.upper() != case.operation.method.upper():
        return  # the coverage phase's unserved methods: 405 before any auth, not our concern
    if case.headers:
        case.headers.pop("Authorization", None)  # schemathesis may generate one
    response = case.call(base_url=live_service.url, headers=bad_bearers[bearer])
    # The coverage phase removes the header on purpose in some cases: then it is missing.
    sent = response.request.headers.get("Authorization")
    kind = bearer if sent is not None else "missing"
    assert sent == bad_bearers[kind].get("Authorization"), sent
    assert response.status_code == 401, (case.operation.label, response.text[:300])
    message = response.json()["errors"][0]["message"]
    assert message.startswith(REFUSALS[kind]), message
    case.validate_response(response, checks=CHECKS)


def test_stateful_links_create_jobs_and_sessions_then_use_them(
    live_service: LocalService, auth_headers: dict[str, str]
) -> None:
    """The links lead from each creation to the calls on what was created, which all work."""
    tiny_job = sampler_body(IDEAL, bell(2), shots=TINY_SHOTS)
    created: set[str] = set()
    linked: Counter[tuple[str, int]] = Counter()

    class Machine(stateful_schema.as_state_machine()):  # type: ignore[misc]
        def before_call(self, case: schemathesis.Case[Any]) -> None:
            # Generated jobs and sessions name no device served here: make them real.
            if case.operation.label == "POST /api/v1/jobs":
                body = case.body if isinstance(case.body, dict) else {}
                in_session = {"session_id": body["session_id"]} if "session_id" in body else {}
                case.body = {**tiny_job, **in_session}
            elif case.operation.label == "POST /api/v1/sessions":
                body = case.body if isinstance(case.body, dict) else {}
                case.body = {**body, "backend": IDEAL}

        def get_call_kwargs(self, case: schemathesis.Case[Any]) -> dict[str, Any]:
            return {"base_url": live_service.url, "headers": auth_headers}

        def after_call(self, response: Any, case: schemathesis.Case[Any]) -> None:
            super().after_call(response, case)
            label = case.operation.label
            if label in {"POST /api/v1/jobs", "POST /api/v1/sessions"}:
                if response.status_code == 200:
                    created.add(response.json()["id"])
                linked[(label, response.status_code)] += 1
                return
            used = {*(case.path_parameters or {}).values(), (case.query or {}).get("session_id")}
            if used & created:
                linked[(label, response.status_code)] += 1
            if label == "DELETE /api/v1/jobs/{job_id}" and response.status_code == 204:
                url = f"{live_service.api_url}/jobs/{case.path_parameters['job_id']}"
                gone = requests.get(url, headers=auth_headers, timeout=30)
                assert gone.status_code == 404, ("a deleted job is still there", gone.text)

        def validate_response(
            self, response: Any, case: schemathesis.Case[Any], *args: Any, **kwargs: Any
        ) -> None:
            case.validate_response(
                response,
                checks=STATEFUL_CHECKS,
                transport_kwargs=kwargs or None,
                recorder=getattr(self, "recorder", None),
            )

    Machine.run(
        settings=hypothesis.settings(
            max_examples=STATEFUL_SCENARIOS,
            stateful_step_count=STATEFUL_STEPS,
            deadline=None,
            derandomize=True,
            database=None,
            suppress_health_check=list(hypothesis.HealthCheck),
        )
    )
    # Each linked call reached what was created: a 2xx, or the 409 of a job that has ended.
    answered = {
        label: {status for (seen, status) in linked if seen == label} for label, _ in linked
    }
    expected = {
        "GET /api/v1/jobs/{job_id}": {200},
        "GET /api/v1/jobs/{job_id}/results": {200, 409},
        "DELETE /api/v1/jobs/{job_id}": {204},
        "POST /api/v1/jobs/{job_id}/cancel": {204, 409},
        "GET /api/v1/sessions/{session_id}": {200},
        "PATCH /api/v1/sessions/{session_id}": {204},
        "DELETE /api/v1/sessions/{session_id}/close": {204},
    }
    reached = {label for label, ok in expected.items() if answered.get(label, set()) & ok}
    # schemathesis picks among the links with true randomness (derandomize does not reach it),
    # so a run may happen to skip one or two of them: most must be reached, never none.
    assert len(reached) >= len(expected) - 2, (set(expected) - reached, sorted(linked.items()))
