"""Every route refuses the callers it must: walked from the route table and the OpenAPI file.

The OpenAPI description (``jupyter_qrt/server/openapi.json``) says who may call each operation
(``security``: ``jupyter`` for users, ``kernel`` for the kernel token, ``proxyBearer`` for a
bearer from the IAM route). These tests hold the server to it: an anonymous call never gets
past authentication, the kernel token opens exactly the operations that list ``kernel``, a
proxy bearer exactly those that list ``proxyBearer``, and a browser's cookie without its XSRF
token cannot change anything.
"""

from __future__ import annotations

import json
import re
from importlib import resources
from typing import Any
from urllib.parse import urlencode

import pytest
from tornado.httpclient import HTTPClientError

from jupyter_qrt.server.callers import NAMESPACE
from jupyter_qrt.server.routes import routes

from .conftest import Fetch

SPEC: dict[str, Any] = json.loads(
    resources.files("jupyter_qrt.server").joinpath("openapi.json").read_text("utf-8")
)
METHODS = ("get", "post", "put", "patch", "delete")
# A concrete path per templated one: an account that exists, and a runtime path that is allowed.
CONCRETE = {"{account}": "local", "{path}": "api/v1/backends"}
REFUSED = {401, 403}


def _operations() -> list[tuple[str, str, set[str]]]:
    found = []
    for path, item in SPEC["paths"].items():
        for method in METHODS:
            operation = item.get(method)
            if operation is None:
                continue
            schemes = {name for requirement in operation["security"] for name in requirement}
            found.append((path, method, schemes))
    return found


OPERATIONS = _operations()


def _concrete(path: str) -> list[str]:
    for template, value in CONCRETE.items():
        path = path.replace(template, value)
    return [NAMESPACE, *path.strip("/").split("/")]


def _body(method: str, path: str) -> str | None:
    if method not in {"post", "put", "patch"}:
        return None
    if path.startswith("/iam"):
        return urlencode({"grant_type": "urn:ibm:params:oauth:grant-type:apikey", "apikey": "x"})
    return "{}"


async def _status(jp_fetch: Fetch, path: str, method: str, headers: dict[str, str]) -> int:
    return (await _answer(jp_fetch, path, method, headers))[0]


async def _answer(
    jp_fetch: Fetch, path: str, method: str, headers: dict[str, str]
) -> tuple[int, str]:
    """Status and body of a call (the body tells a refusal of the caller from other 403s)."""
    try:
        response = await jp_fetch(
            *_concrete(path),
            method=method.upper(),
            body=_body(method, path),
            headers=headers,
            allow_nonstandard_methods=True,
            request_timeout=30,
        )
    except HTTPClientError as exc:
        body = exc.response.body.decode("utf-8", "replace") if exc.response else ""
        return exc.code, body
    return int(response.code), response.body.decode("utf-8", "replace")


def _message(body: str) -> str | None:
    try:
        return str(json.loads(body).get("message"))
    except ValueError:
        return None


def test_the_openapi_file_describes_exactly_the_route_table() -> None:
    def shape(pattern: str) -> str:
        pattern = pattern.removeprefix(f"/{NAMESPACE}")
        return re.sub(r"\(\?P<(\w+)>[^)]*\)", lambda m: "{" + m.group(1) + "}", pattern)

    routed = {shape(pattern).replace("{name}", "{account}") for pattern, *_ in routes()}
    assert routed == set(SPEC["paths"])


@pytest.mark.parametrize(("path", "method", "schemes"), OPERATIONS)
async def test_an_anonymous_call_is_refused(
    jp_fetch: Fetch, path: str, method: str, schemes: set[str]
) -> None:
    status = await _status(jp_fetch, path, method, {"Authorization": ""})
    if not schemes:  # the IAM route: open, but the credential in its form is checked
        assert status == 400
    else:
        assert status in REFUSED


@pytest.mark.parametrize(("path", "method", "schemes"), OPERATIONS)
async def test_the_kernel_token_opens_only_what_lists_it(
    jp_fetch: Fetch, jp_serverapp: Any, path: str, method: str, schemes: set[str]
) -> None:
    token = jp_serverapp.extension_manager.extension_apps["jupyter_qrt"].pop().kernel_token
    status, body = await _answer(jp_fetch, path, method, {"Authorization": f"token {token}"})
    if "kernel" in schemes or not schemes:
        assert status not in REFUSED
    else:
        # Refused because a kernel called, not for another reason (e.g. a read-only account).
        assert (status, "A kernel may not call this route.") == (403, _message(body))


@pytest.mark.parametrize(("path", "method", "schemes"), OPERATIONS)
async def test_a_proxy_bearer_opens_only_the_proxy(
    jp_fetch: Fetch, jp_serverapp: Any, path: str, method: str, schemes: set[str]
) -> None:
    app = jp_serverapp.extension_manager.extension_apps["jupyter_qrt"].pop()
    bearer = app.bearers.issue()["access_token"]
    status, body = await _answer(jp_fetch, path, method, {"Authorization": f"Bearer {bearer}"})
    if "proxyBearer" in schemes or not schemes:
        assert status not in REFUSED
    else:
        assert (status, "A bearer may not call this route.") == (403, _message(body))


async def test_a_forged_or_foreign_bearer_opens_nothing(jp_fetch: Fetch) -> None:
    from jupyter_qrt.server.iam import ProxyBearers

    foreign = ProxyBearers().issue()["access_token"]  # another server's secret
    for token in (foreign, "not.a.token", "qrtk_guessed"):
        status = await _status(
            jp_fetch, "/runtime/{account}/{path}", "get", {"Authorization": f"Bearer {token}"}
        )
        assert status in REFUSED


@pytest.mark.parametrize(
    ("path", "method"),
    [(p, m) for p, m, schemes in OPERATIONS if m != "get" and "jupyter" in schemes],
)
async def test_a_cookie_without_its_xsrf_token_cannot_change_anything(
    jp_fetch: Fetch, jp_serverapp: Any, path: str, method: str
) -> None:
    # A browser's session: Jupyter's login cookie (set on a token-authenticated request), but
    # no _xsrf token sent with the request, as a forged cross-site form would be.
    response = await jp_fetch(NAMESPACE, "status")
    cookies = "; ".join(value.split(";", 1)[0] for value in response.headers.get_list("Set-Cookie"))
    assert cookies, "a token-authenticated request sets Jupyter's login cookie"
    answer = await _status(jp_fetch, "/status", "get", {"Authorization": "", "Cookie": cookies})
    assert answer == 200, "the cookie alone signs the browser in"
    status = await _status(jp_fetch, path, method, {"Authorization": "", "Cookie": cookies})
    assert status == 403
