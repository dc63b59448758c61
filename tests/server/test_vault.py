"""The vault's write side over real HTTP: adding (checked against a real local service standing in
for IBM), deleting, choosing the default, and who may do it."""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path
from typing import Any

import pytest
from tornado.httpclient import HTTPClientError

from jupyter_qrt.local.server import LocalService
from jupyter_qrt.server.app import DEFAULT_ALLOWED_HOSTS
from jupyter_qrt.server.routes import ACCOUNT_NAME
from jupyter_qrt.server.vault import NAME_PATTERN

from .conftest import Fetch, fetch_json
from .upstreams import closed_port, cookies_of, raw_fetch, upstream

__all__ = ["upstream"]  # the fixture, used by name


@pytest.fixture
def qrt_config(upstream: LocalService) -> dict[str, Any]:
    # The embedded service is not needed here: the upstream stands in for every remote service.
    return {
        "allowed_hosts": [*DEFAULT_ALLOWED_HOSTS, f"127.0.0.1:{upstream.port}"],
        "local_service": False,
    }


async def error_of(jp_fetch: Fetch, status: int, *parts: str, **kwargs: Any) -> str:
    """The message of a request that must fail with ``status``."""
    with pytest.raises(HTTPClientError) as caught:
        await jp_fetch("jupyter-qrt", *parts, **kwargs)
    assert caught.value.code == status, caught.value.response
    assert caught.value.response is not None
    body = json.loads(caught.value.response.body)
    assert isinstance(body["message"], str)
    return str(body["message"])


def post(body: Any) -> dict[str, Any]:
    return {"method": "POST", "body": body if isinstance(body, str) else json.dumps(body)}


def lab_body(upstream: LocalService, **extra: Any) -> dict[str, Any]:
    return {
        "name": "lab",
        "channel": "local",
        "url": upstream.url,
        "token": upstream.api_key,
        **extra,
    }


def file_entries(path: Path) -> dict[str, Any]:
    return json.loads(path.read_text()) if path.exists() else {}


async def test_an_account_is_checked_saved_0600_and_listed_without_its_key(
    jp_fetch: Fetch, upstream: LocalService, accounts_file: Path
) -> None:
    answer = await fetch_json(jp_fetch, "accounts", **post(lab_body(upstream)))
    account = answer["account"]
    # No instance given: the key's only instance was picked, and the answer says so.
    assert account["instance"] == upstream.instance
    assert "No instance given: picked 'local'" in answer["message"]
    assert account["read_only"] is False
    assert account["fingerprint"] == "..." + upstream.api_key[-4:]
    assert upstream.api_key not in json.dumps(answer)
    assert stat.S_IMODE(accounts_file.stat().st_mode) == 0o600
    saved = file_entries(accounts_file)["lab"]
    assert saved["token"] == upstream.api_key
    assert saved["instance"] == upstream.instance
    listed = await fetch_json(jp_fetch, "accounts")
    assert [a["name"] for a in listed["accounts"]] == ["local", "lab"]
    assert upstream.api_key not in json.dumps(listed)


async def test_a_201_answers_created(jp_fetch: Fetch, upstream: LocalService) -> None:
    response = await jp_fetch("jupyter-qrt", "accounts", **post(lab_body(upstream)))
    assert response.code == 201


async def test_an_instance_name_is_saved_as_its_crn(
    jp_fetch: Fetch, upstream: LocalService, accounts_file: Path
) -> None:
    answer = await fetch_json(jp_fetch, "accounts", **post(lab_body(upstream, instance="local")))
    assert answer["account"]["instance"] == upstream.instance
    assert file_entries(accounts_file)["lab"]["instance"] == upstream.instance


async def test_an_unknown_instance_is_refused_listing_the_key_s_instances(
    jp_fetch: Fetch, upstream: LocalService, accounts_file: Path
) -> None:
    message = await error_of(
        jp_fetch, 400, "accounts", **post(lab_body(upstream, instance="no-such-instance"))
    )
    assert "'no-such-instance' was not found" in message
    assert upstream.instance in message
    assert "'local'" in message
    assert not accounts_file.exists()


async def test_a_key_iam_refuses_is_a_400_and_nothing_is_saved(
    jp_fetch: Fetch, upstream: LocalService, accounts_file: Path
) -> None:
    wrong = "qrt_wrong_" + "x" * 40
    message = await error_of(jp_fetch, 400, "accounts", **post(lab_body(upstream, token=wrong)))
    assert message.startswith("The API key was refused by IAM")
    assert wrong not in message
    assert not accounts_file.exists()


async def test_an_unreachable_iam_is_a_502(
    jp_fetch: Fetch, jp_serverapp: Any, accounts_file: Path, upstream: LocalService
) -> None:
    port = closed_port()
    extension = jp_serverapp.extension_manager.extension_apps["jupyter_qrt"]
    (app,) = extension
    app.allowed_hosts = [*app.allowed_hosts, f"127.0.0.1:{port}"]
    body = lab_body(upstream, url=f"http://127.0.0.1:{port}")
    message = await error_of(jp_fetch, 502, "accounts", **post(body))
    assert message.startswith(f"IAM at http://127.0.0.1:{port} could not be reached")
    assert not accounts_file.exists()


async def test_a_host_not_allowed_never_receives_the_key(
    jp_fetch: Fetch, upstream: LocalService, accounts_file: Path
) -> None:
    port = closed_port()  # not in allowed_hosts: refused before any connection is tried
    body = lab_body(upstream, url=f"http://127.0.0.1:{port}")
    message = await error_of(jp_fetch, 400, "accounts", **post(body))
    assert "may not contact" in message
    assert "c.QRTExtension.allowed_hosts" in message
    assert not accounts_file.exists()


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"name": "x", "channel": "local"}, "token"),
        ({"name": "x", "token": 42}, "token"),
        ({"name": "x", "token": "k" * 40, "channel": "ibm_quantum"}, "channel"),
        ({"name": "x", "token": "k" * 40, "tokn": "k"}, "'tokn'"),
        ({"name": "x y", "token": "k" * 40}, "name"),
        ({"name": "x", "token": "k" * 40, "set_default": "yes"}, "set_default"),
        ({"name": "x", "token": "k" * 40, "plans_preference": "open"}, "plans_preference"),
        ({"name": "x", "token": "k" * 40, "channel": "local"}, "url"),
        ({"name": "x", "token": "k" * 40, "region": "mars"}, "region"),
    ],
)
async def test_a_bad_body_is_a_400_naming_the_field(
    jp_fetch: Fetch, accounts_file: Path, body: dict[str, Any], field: str
) -> None:
    if field == "url":
        # A local account without url means the embedded service, which is off here.
        assert "embedded local service" in await error_of(jp_fetch, 503, "accounts", **post(body))
        return
    message = await error_of(jp_fetch, 400, "accounts", **post(body))
    assert field in message
    assert "k" * 40 not in message
    assert not accounts_file.exists()


async def test_a_body_that_is_not_json_is_a_400(jp_fetch: Fetch) -> None:
    assert "JSON" in await error_of(jp_fetch, 400, "accounts", **post("{not json"))


async def test_a_name_taken_is_a_409_and_the_first_account_stays(
    jp_fetch: Fetch, upstream: LocalService, accounts_file: Path
) -> None:
    await fetch_json(jp_fetch, "accounts", **post(lab_body(upstream)))
    before = accounts_file.read_bytes()
    message = await error_of(jp_fetch, 409, "accounts", **post(lab_body(upstream)))
    assert "'lab' exists already" in message
    assert "provides" in await error_of(
        jp_fetch, 409, "accounts", **post(lab_body(upstream, name="local"))
    )
    assert accounts_file.read_bytes() == before


async def test_delete_answers_204_and_refuses_local_and_unknown_names(
    jp_fetch: Fetch, upstream: LocalService, accounts_file: Path
) -> None:
    await fetch_json(jp_fetch, "accounts", **post(lab_body(upstream)))
    response = await jp_fetch("jupyter-qrt", "accounts", "lab", method="DELETE")
    assert response.code == 204
    assert "lab" not in file_entries(accounts_file)
    assert "cannot be deleted" in await error_of(
        jp_fetch, 403, "accounts", "local", method="DELETE"
    )
    assert "No account named 'lab'" in await error_of(
        jp_fetch, 404, "accounts", "lab", method="DELETE"
    )


async def test_patch_default_marks_the_file_and_points_new_kernels_at_it(
    jp_fetch: Fetch, upstream: LocalService, accounts_file: Path
) -> None:
    await fetch_json(jp_fetch, "accounts", **post(lab_body(upstream)))
    patch = {"method": "PATCH", "body": json.dumps({"default": True})}
    answer = await fetch_json(jp_fetch, "accounts", "lab", **patch)
    assert answer["default"] == "lab"
    assert answer["account"]["default"] is True
    # A local account: its default mark lives in our object, where the official client ignores it
    assert file_entries(accounts_file)["lab"]["jupyter_qrt"]["is_default_account"] is True
    assert os.environ["QISKIT_IBM_URL"].endswith("/jupyter-qrt/runtime/lab/experimental/api/v1")
    assert os.environ["QISKIT_IBM_INSTANCE"] == upstream.instance
    # 'local' can be the default too (kept in the server's settings file, not the accounts file)
    answer = await fetch_json(jp_fetch, "accounts", "local", **patch)
    assert answer["default"] == "local"
    assert (await fetch_json(jp_fetch, "status"))["default_account"] == "local"
    assert os.environ["QISKIT_IBM_URL"].endswith("/jupyter-qrt/runtime/local/experimental/api/v1")
    assert "default" in await error_of(
        jp_fetch, 400, "accounts", "lab", method="PATCH", body=json.dumps({"default": False})
    )
    assert "No account named 'nope'" in await error_of(jp_fetch, 404, "accounts", "nope", **patch)


async def test_the_kernel_token_lists_accounts_but_never_changes_them(
    jp_fetch: Fetch, upstream: LocalService, accounts_file: Path
) -> None:
    kernel = {"Authorization": f"token {os.environ['QRT_KERNEL_TOKEN']}"}
    listed = await fetch_json(jp_fetch, "accounts", headers=kernel)
    assert listed["default"] == "local"
    for method, parts, body in (
        ("POST", ("accounts",), lab_body(upstream)),
        ("DELETE", ("accounts", "lab"), None),
        ("PATCH", ("accounts", "local"), {"default": True}),
    ):
        kwargs: dict[str, Any] = {"method": method, "headers": kernel}
        if body is not None:
            kwargs["body"] = json.dumps(body)
        message = await error_of(jp_fetch, 403, *parts, **kwargs)
        assert message == "A kernel may not call this route."
    assert not accounts_file.exists()


def test_the_vault_accepts_exactly_the_names_the_routes_address() -> None:
    assert NAME_PATTERN == ACCOUNT_NAME


async def test_a_browser_post_without_the_xsrf_token_is_refused(
    jp_serverapp: Any,
    http_server_client: Any,
    jp_base_url: str,
    upstream: LocalService,
    accounts_file: Path,
) -> None:
    # Sign in as a browser does: the server token once in the URL gives a login cookie.
    token = jp_serverapp.identity_provider.token
    signed_in = await raw_fetch(http_server_client, jp_base_url, f"api/me?token={token}")
    login = "; ".join(f"{k}={v}" for k, v in cookies_of(signed_in).items())
    assert login.startswith("username-")
    body = lab_body(upstream)
    forged = await raw_fetch(
        http_server_client,
        jp_base_url,
        "jupyter-qrt/accounts",
        method="POST",
        body=body,
        headers={"Cookie": login},
    )
    assert forged.code == 403
    assert "_xsrf" in json.loads(forged.body)["message"]
    assert not accounts_file.exists()
    # The same request with the XSRF cookie and header (what JupyterLab sends) goes through.
    sent = await raw_fetch(
        http_server_client,
        jp_base_url,
        "jupyter-qrt/accounts",
        method="POST",
        body=body,
        headers={"Cookie": f"{login}; _xsrf=5eed", "X-XSRFToken": "5eed"},
    )
    assert sent.code == 201, sent.body
    assert "lab" in file_entries(accounts_file)
