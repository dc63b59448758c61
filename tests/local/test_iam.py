"""IAM of the local service: API key -> signed token, and every runtime call checks it."""

from __future__ import annotations

import base64
import json
import stat
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests

from jupyter_qrt.local.identity.iam import (
    APIKEY_GRANT_TYPE,
    SECRET_FILE_NAME,
    BearerRejected,
    TokenSigner,
    load_or_create_secret,
)
from jupyter_qrt.local.server import LocalService

GRANT = "urn:ibm:params:oauth:grant-type:apikey"


def _decode_part(part: str) -> dict[str, Any]:
    value: dict[str, Any] = json.loads(base64.urlsafe_b64decode(part + "=" * (-len(part) % 4)))
    return value


class _Key:
    def __init__(self, key_id: str, instance_crn: str, user_id: str = "alice") -> None:
        self.key_id = key_id
        self.instance_crn = instance_crn
        self.user_id = user_id


CRN = "crn:v1:bluemix:public:quantum-computing:local:a/acct1:inst1::"


# -- tokens, without HTTP ------------------------------------------------------------------------


def test_token_is_a_jwt_with_iat_exp_and_the_keys_binding() -> None:
    signer = TokenSigner(b"k" * 32, clock=lambda: 1_000_000.0)
    answer = signer.issue(_Key("key1", CRN))
    assert answer["token_type"] == "Bearer"
    assert answer["refresh_token"] == "not_supported"
    assert answer["expires_in"] == 3600
    assert answer["expiration"] == 1_003_600
    header, payload, signature = answer["access_token"].split(".")
    assert _decode_part(header) == {"alg": "HS256", "typ": "JWT"}
    claims = _decode_part(payload)
    assert claims["iat"] == 1_000_000
    assert claims["exp"] == 1_003_600
    assert claims["sub"] == "key1"
    assert claims["iam_id"] == "alice"
    assert claims["account"]["bss"] == "acct1"
    assert claims["instance_crn"] == CRN
    assert signature
    checked = signer.verify(answer["access_token"])
    assert (checked.key_id, checked.instance_crn, checked.expires_at) == ("key1", CRN, 1_003_600)


def test_tampered_foreign_and_expired_tokens_are_rejected() -> None:
    now = [1_000_000.0]
    signer = TokenSigner(b"k" * 32, clock=lambda: now[0])
    token = signer.issue(_Key("key1", CRN))["access_token"]
    header, payload, signature = token.split(".")
    claims = _decode_part(payload)
    claims["instance_crn"] = CRN.replace("inst1", "other")
    forged_payload = base64.urlsafe_b64encode(json.dumps(claims).encode()).decode().rstrip("=")
    with pytest.raises(BearerRejected, match="signature"):
        signer.verify(f"{header}.{forged_payload}.{signature}")
    with pytest.raises(BearerRejected, match="signature"):
        TokenSigner(b"x" * 32, clock=lambda: now[0]).verify(token)
    with pytest.raises(BearerRejected, match="not a token"):
        signer.verify("opaque-token")
    now[0] += 3600
    with pytest.raises(BearerRejected, match="expired"):
        signer.verify(token)


def test_secret_is_created_once_with_mode_0600(tmp_path: Path) -> None:
    path = tmp_path / "dir" / SECRET_FILE_NAME
    first = load_or_create_secret(path)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert load_or_create_secret(path) == first
    token = TokenSigner.from_data_dir(path.parent).issue(_Key("k", CRN))["access_token"]
    TokenSigner.from_data_dir(path.parent).verify(token)  # another process would accept it


def test_services_starting_at_once_agree_on_one_whole_secret(tmp_path: Path) -> None:
    starters = 8
    barrier = threading.Barrier(starters)
    secrets: list[bytes] = []
    failures: list[BaseException] = []

    def start() -> None:
        try:
            barrier.wait(timeout=30)
            secrets.append(load_or_create_secret(tmp_path / SECRET_FILE_NAME))
        except BaseException as exc:  # reported below, not lost in the thread
            failures.append(exc)

    threads = [threading.Thread(target=start) for _ in range(starters)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not failures
    assert len(secrets) == starters
    assert len(set(secrets)) == 1  # none read an empty or half-written file, none overwrote
    assert [path.name for path in tmp_path.iterdir()] == [SECRET_FILE_NAME]  # no temp files left
    assert stat.S_IMODE((tmp_path / SECRET_FILE_NAME).stat().st_mode) == 0o600


def test_the_tokens_grant_type_is_the_one_exchanged() -> None:
    token = TokenSigner(b"k" * 32).issue(_Key("key1", CRN))["access_token"]
    assert _decode_part(token.split(".")[1])["grant_type"] == APIKEY_GRANT_TYPE == GRANT


# -- over HTTP -----------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def service(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalService]:
    with LocalService(tmp_path_factory.mktemp("iam-data"), workers=1) as running:
        yield running


def _token(service: LocalService, api_key: str) -> requests.Response:
    return requests.post(
        f"{service.url}/identity/token",
        data={"grant_type": GRANT, "apikey": api_key, "response_type": "cloud_iam"},
        headers={"Accept": "application/json"},
        timeout=30,
    )


def _bearer(service: LocalService, api_key: str) -> str:
    answer = _token(service, api_key)
    assert answer.status_code == 200, answer.text
    token: str = answer.json()["access_token"]
    return token


def _usage(service: LocalService, token: str | None, crn: str | None) -> requests.Response:
    headers = {}
    if token is not None:
        headers["Authorization"] = f"Bearer {token}"
    if crn is not None:
        headers["Service-CRN"] = crn
    return requests.get(f"{service.api_url}/instances/usage", headers=headers, timeout=30)


def _assert_ibm_error(answer: requests.Response, status: int, words: str) -> None:
    assert answer.status_code == status, answer.text
    body = answer.json()
    assert body["status_code"] == status
    assert words in body["errors"][0]["message"]
    assert body["error"]["message"] == body["errors"][0]["message"]
    assert body["trace"] == answer.headers["uber-trace-id"]


def test_the_default_key_gets_a_token_for_its_instance(service: LocalService) -> None:
    answer = _token(service, service.api_key)
    assert answer.status_code == 200
    body = answer.json()
    assert body["token_type"] == "Bearer"
    assert body["scope"] == "ibm openid"
    assert isinstance(body["ims_user_id"], int)
    claims = _decode_part(body["access_token"].split(".")[1])
    assert claims["exp"] - claims["iat"] == 3600
    assert claims["instance_crn"] == service.instance
    assert _usage(service, body["access_token"], service.instance).status_code == 200


def test_an_unknown_key_gets_iams_error(service: LocalService) -> None:
    answer = _token(service, service.api_key[:-4] + "zzzz")
    assert answer.status_code == 400
    assert answer.headers["Content-Type"].startswith("application/json")
    body = answer.json()
    assert body["errorCode"] == "BXNIM0415E"
    assert body["errorMessage"] == "Provided API key could not be found."


def test_a_form_without_key_or_with_another_grant_is_refused(service: LocalService) -> None:
    no_key = requests.post(f"{service.url}/identity/token", data={"grant_type": GRANT}, timeout=30)
    assert no_key.status_code == 400
    assert "apikey" in no_key.json()["errorMessage"]
    other = requests.post(
        f"{service.url}/identity/token",
        data={"grant_type": "password", "apikey": service.api_key},
        timeout=30,
    )
    assert other.status_code == 400
    assert "grant type" in other.json()["errorMessage"]


def test_missing_malformed_forged_and_expired_bearers_get_401(service: LocalService) -> None:
    _assert_ibm_error(_usage(service, None, service.instance), 401, "Bearer")
    _assert_ibm_error(_usage(service, "not-a-jwt", service.instance), 401, "not a token")
    token = _bearer(service, service.api_key)
    header, payload, _ = token.split(".")
    forged = f"{header}.{payload}.{'A' * 43}"
    _assert_ibm_error(_usage(service, forged, service.instance), 401, "signature")
    # A token of this service's own secret, issued two hours ago.
    key = service.runtime.verify_api_key(service.api_key)
    assert key is not None
    old = TokenSigner.from_data_dir(service.data_dir, clock=lambda: 0.0).issue(key)
    _assert_ibm_error(_usage(service, old["access_token"], service.instance), 401, "expired")


def test_instance_header_must_be_the_keys_instance(service: LocalService) -> None:
    runtime = service.runtime
    other = runtime.create_instance("iam-other")
    token = _bearer(service, service.api_key)
    _assert_ibm_error(_usage(service, token, None), 400, "Service-CRN")
    _assert_ibm_error(_usage(service, token, other.crn), 403, "not allowed")
    unknown = other.crn.replace(other.crn.split(":")[7], "nosuchinstance")
    assert _usage(service, token, unknown).status_code == 404
    other_key = runtime.create_key(other.crn, "iam-other-key")
    other_token = _bearer(service, other_key)
    assert _usage(service, other_token, other.crn).status_code == 200
    _assert_ibm_error(_usage(service, other_token, service.instance), 403, "not allowed")


def test_a_revoked_keys_tokens_stop_working(service: LocalService) -> None:
    runtime = service.runtime
    key = runtime.create_key(service.instance, "iam-revoked")
    token = _bearer(service, key)
    assert _usage(service, token, service.instance).status_code == 200
    runtime.revoke_key("iam-revoked")
    _assert_ibm_error(_usage(service, token, service.instance), 401, "revoked")
    assert _token(service, key).status_code == 400
