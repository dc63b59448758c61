"""schemathesis against the OpenAPI description of the local service: no 5xx, ever.

One test per operation of the description, each with a bounded number of generated requests
(valid and invalid ones) sent over HTTP to a real :class:`LocalService`, with a valid bearer token
and ``Service-CRN``. A request the service cannot handle must get a 4xx with a message, never a
5xx; every answer must use a documented status code and content type and match its schema.

The description is the packaged ``openapi.json`` (loaded at collection time, which needs no
service); the first test proves it is exactly what the live service serves at ``/openapi.json``.
schemathesis' ``from_fixture`` loader cannot be used: it sets ``Function._nodeid``, which pytest 9
no longer has.

Generation is deterministic (``derandomize``, no example database) so CI does not flake.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import requests
import schemathesis
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from jupyter_qrt.local.http.openapi import load_openapi
from jupyter_qrt.local.server import LocalService

GRANT = "urn:ibm:params:oauth:grant-type:apikey"
EXAMPLES_PER_OPERATION = 25
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]

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
