"""The runtime proxy over a real Jupyter server: forwarding, SSRF refusals, and upstream faults.

Upstreams: a second :class:`LocalService` stands in for IBM (account ``ibm``), a recording server
stands for a foreign host nobody allowed (it must see zero requests), another recording server is
a slow upstream that is allowed, and a closed port is an upstream that is down.
"""

from __future__ import annotations

import asyncio
import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from tornado.httpclient import AsyncHTTPClient, HTTPResponse

from jupyter_qrt.local.server import LocalService
from jupyter_qrt.runtime.accounts import Account, AccountStore
from jupyter_qrt.server.app import DEFAULT_ALLOWED_HOSTS
from jupyter_qrt.server.proxy import PathRefused, split_path
from jupyter_qrt.server.upstream import host_allowed

from .conftest import Fetch, fetch_json
from .recording import FAKE_BEARER, RecordingServer, free_port

# -- fixtures -----------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def ibm_service(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalService]:
    service = LocalService(tmp_path_factory.mktemp("ibm-stand-in"), workers=1)
    service.start()
    try:
        yield service
    finally:
        service.stop()


@pytest.fixture(scope="module")
def foreign() -> Iterator[RecordingServer]:
    server = RecordingServer().start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="module")
def slow() -> Iterator[RecordingServer]:
    server = RecordingServer().start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="module")
def dead_port() -> int:
    return free_port()


@pytest.fixture
def qrt_config(ibm_service: LocalService, slow: RecordingServer, dead_port: int) -> dict[str, Any]:
    return {
        "allowed_hosts": [
            *DEFAULT_ALLOWED_HOSTS,
            f"127.0.0.1:{ibm_service.port}",
            f"127.0.0.1:{slow.port}",
            f"127.0.0.1:{dead_port}",
        ]
    }


@pytest.fixture
def accounts(
    http_server_client: Any,  # the Jupyter server listens once this fixture runs
    accounts_file: Path,
    ibm_service: LocalService,
    foreign: RecordingServer,
    slow: RecordingServer,
    dead_port: int,
) -> AccountStore:
    store = AccountStore(str(accounts_file))
    key = ibm_service.runtime.create_key(ibm_service.instance, f"key-{os.urandom(4).hex()}")
    for account in (
        Account(
            name="ibm",
            channel="local",
            token=key,
            url=ibm_service.url,
            instance=ibm_service.instance,
        ),
        Account(name="evil", channel="local", token="k-evil", url=foreign.url),
        Account(name="evil-ibm", token="k-evil", url=foreign.url),
        Account(name="slow", channel="local", token="k-slow", url=slow.url),
        Account(name="down", channel="local", token="k-down", url=f"http://127.0.0.1:{dead_port}"),
    ):
        store.save(account, set_as_default=False)
    return store


def kernel_auth() -> dict[str, str]:
    return {"Authorization": f"token {os.environ['QRT_KERNEL_TOKEN']}"}


async def call(
    port: int, base_url: str, path: str, *, method: str = "GET", body: bytes | None = None
) -> HTTPResponse:
    """A kernel's call to the proxy with the URL exactly as written (no client-side escaping)."""
    client = AsyncHTTPClient()
    return await client.fetch(
        f"http://127.0.0.1:{port}{base_url}jupyter-qrt/runtime/{path}",
        method=method,
        body=body,
        headers=kernel_auth(),
        raise_error=False,
        request_timeout=60,
    )


async def raw_get(port: int, target: str) -> tuple[int, bytes]:
    """A GET whose request target goes on the wire byte for byte (what a hostile client sends)."""
    token = os.environ["QRT_KERNEL_TOKEN"]
    head = f"GET {target} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nAuthorization: token {token}\r\n"
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        writer.write(f"{head}Connection: close\r\n\r\n".encode())
        await writer.drain()
        data = await asyncio.wait_for(reader.read(), 30)
    finally:
        writer.close()
    head, _, body = data.partition(b"\r\n\r\n")
    return int(head.split()[1]), body


# -- the rules, without a server ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        ("api/v1/backends", ("runtime", "backends")),
        ("experimental/api/v1/jobs/abc/results", ("runtime", "jobs/abc/results")),
        ("globalsearch/v3/resources/search", ("search", "v3/resources/search")),
        ("globalcatalog/abc123", ("catalog", "abc123")),
    ],
)
def test_runtime_paths_go_to_their_upstream(path: str, expected: tuple[str, str]) -> None:
    assert split_path(path) == expected


@pytest.mark.parametrize(
    ("path", "status"),
    [
        ("api/v1/../../admin", 400),
        ("api/v1/./jobs", 400),
        ("api/v1//evil.example/jobs", 400),
        ("//evil.example/api/v1/jobs", 400),
        ("api/v1/jobs%2f..%2f..%2fadmin", 400),
        ("api/v1/%2e%2e/admin", 400),
        ("api/v1/jobs%5cadmin", 400),
        ("api\\v1\\jobs", 400),
        ("http://evil.example/api/v1/jobs", 400),
        ("http:%2f%2fevil.example/api/v1/jobs", 400),
        ("api/v1/jobs%0d%0aHost:%20evil.example", 400),
        ("api/v1/jobs%00", 400),
        ("identity/token", 404),
        ("api/v1", 404),
        ("v2/api/v1/jobs", 404),
        ("experimental/jobs", 404),
        ("", 400),
        ("api/v1/jobs/..;/admin", 400),  # some servers read "..;" as ".."
        ("api/v1/jobs/...", 400),
        ("api/v1/jobs/a;b=c", 400),
        ("api/v1/jobs/%zz", 400),
    ],
)
def test_paths_that_could_leave_the_api_are_refused(path: str, status: int) -> None:
    with pytest.raises(PathRefused) as refused:
        split_path(path)
    assert refused.value.status == status


@pytest.mark.parametrize(
    ("url", "allowed"),
    [
        ("https://quantum.cloud.ibm.com/api/v1", True),
        ("https://us-east.quantum.cloud.ibm.com/api/v1", True),
        ("https://quantum.cloud.ibm.com:8443/api/v1", False),  # a bare host: default port only
        ("https://evilquantum.cloud.ibm.com/api/v1", False),
        ("https://cloud.ibm.com.evil.example/api/v1", False),
        ("http://127.0.0.1:4444/api/v1", True),
        ("http://127.0.0.1:4445/api/v1", False),
        ("https://user@quantum.cloud.ibm.com/api/v1", False),
    ],
)
def test_the_host_allowlist(url: str, allowed: bool) -> None:
    patterns = [*DEFAULT_ALLOWED_HOSTS, "127.0.0.1:4444"]
    try:
        result = host_allowed(url, patterns)
    except Exception:  # user info: refused outright
        result = False
    assert result is allowed


# -- through the server -------------------------------------------------------------------------


async def test_the_proxy_forwards_to_the_accounts_service_with_its_own_bearer(
    jp_fetch: Fetch,
    jp_http_port: int,
    jp_base_url: str,
    accounts: AccountStore,
    slow: RecordingServer,
) -> None:
    answer = await call(jp_http_port, jp_base_url, "ibm/api/v1/backends")
    assert answer.code == 200, answer.body
    names = [device["name"] for device in json.loads(answer.body)["devices"]]
    assert names, "the stand-in service lists its devices through the proxy"

    seen_before = len(slow.seen)
    answer = await call(
        jp_http_port,
        jp_base_url,
        "slow/experimental/api/v1/jobs?limit=3",
        method="POST",
        body=b"x" * 300_000,
    )
    assert answer.code == 200, answer.body
    assert json.loads(answer.body) == {"path": "/api/v1/jobs?limit=3", "received_bytes": 300_000}
    assert "Set-Cookie" not in answer.headers
    forwarded = slow.seen[seen_before:]
    assert [s.path for s in forwarded] == ["/identity/token", "/api/v1/jobs?limit=3"]
    headers = forwarded[1].headers
    assert headers["Authorization"] == f"Bearer {FAKE_BEARER}"
    assert os.environ["QRT_KERNEL_TOKEN"] not in json.dumps(headers)
    assert "Cookie" not in headers


async def test_crafted_paths_and_accounts_never_reach_a_foreign_host(
    jp_serverapp: Any,
    jp_http_port: int,
    jp_base_url: str,
    accounts: AccountStore,
    foreign: RecordingServer,
) -> None:
    hostile = f"127.0.0.1:{foreign.port}"
    root = f"{jp_base_url}jupyter-qrt/runtime"
    cases = {
        f"{root}/local/../../api/contents": 400,
        f"{root}/local/api/v1/..%2f..%2f{hostile}": 400,
        f"{root}/local//{hostile}/api/v1/jobs": 400,
        f"{root}/local/http://{hostile}/api/v1/jobs": 400,
        f"{root}/local/http:%2F%2F{hostile}/api/v1/jobs": 400,
        f"{root}/local/api/v1/jobs%0D%0AHost:%20{hostile}": 400,
        f"{root}/local/api%5Cv1/jobs": 400,
        f"{root}/local/%2e%2e/%2e%2e/api/contents": 400,
        f"{root}/local/admin": 404,
        f"{root}/{hostile}/api/v1/jobs": 404,
        f"{root}/nosuch/api/v1/backends": 404,
        f"{root}/evil/api/v1/backends": 403,
        f"{root}/evil-ibm/api/v1/backends": 403,
        f"{root}/evil/globalsearch/v3/resources/search": 403,
    }
    answers = {target: await raw_get(jp_http_port, target) for target in cases}
    assert {t: status for t, (status, _) in answers.items()} == cases
    _status, body = answers[f"{root}/evil/api/v1/backends"]
    message = json.loads(body)["message"]
    assert "'evil'" in message
    assert hostile in message
    assert "allowed_hosts" in message
    assert foreign.seen == []


async def test_a_revoked_key_gets_one_clear_line_naming_the_account(
    jp_serverapp: Any,
    jp_http_port: int,
    jp_base_url: str,
    accounts: AccountStore,
    ibm_service: LocalService,
) -> None:
    assert (await call(jp_http_port, jp_base_url, "ibm/api/v1/backends")).code == 200
    key = accounts.get("ibm").token
    info = ibm_service.runtime.verify_api_key(key)
    assert info is not None
    ibm_service.runtime.revoke_key(info.key_id)
    answer = await call(jp_http_port, jp_base_url, "ibm/api/v1/backends")
    assert answer.code == 401
    assert json.loads(answer.body)["message"] == (
        "The API key of account 'ibm' was refused by IBM Quantum: it may have been revoked. "
        "Update it in the Quantum sidebar or %qrt_login."
    )


async def test_an_upstream_that_is_down_gets_502_and_the_server_keeps_serving(
    jp_fetch: Fetch, jp_http_port: int, jp_base_url: str, accounts: AccountStore, dead_port: int
) -> None:
    answer = await call(jp_http_port, jp_base_url, "down/api/v1/backends")
    assert answer.code == 502
    message = json.loads(answer.body)["message"]
    assert "'down'" in message
    assert f"127.0.0.1:{dead_port}" in message
    assert (await fetch_json(jp_fetch, "status"))["namespace"] == "jupyter-qrt"


async def test_a_slow_upstream_does_not_hold_other_routes(
    jp_fetch: Fetch,
    jp_http_port: int,
    jp_base_url: str,
    accounts: AccountStore,
    slow: RecordingServer,
) -> None:
    slow.gate.clear()  # the slow upstream holds every runtime call until the gate opens
    try:
        held = asyncio.ensure_future(call(jp_http_port, jp_base_url, "slow/api/v1/backends"))
        for _ in range(200):  # bounded: until the held call has reached the upstream
            if any(s.path == "/api/v1/backends" for s in slow.seen):
                break
            await asyncio.sleep(0.05)
        statuses = [await fetch_json(jp_fetch, "status") for _ in range(3)]
        assert all(s["namespace"] == "jupyter-qrt" for s in statuses)
        assert not held.done(), "status answered while the slow upstream still held its call"
    finally:
        slow.gate.set()
    assert (await held).code == 200


async def test_a_burst_of_calls_makes_one_iam_exchange(
    jp_http_port: int, jp_base_url: str, accounts: AccountStore, slow: RecordingServer
) -> None:
    accounts.save(
        Account(name="burst", channel="local", token="k-burst", url=slow.url),
        set_as_default=False,
    )
    before = len(slow.seen)
    answers = await asyncio.gather(
        *(call(jp_http_port, jp_base_url, f"burst/api/v1/jobs/j{i}") for i in range(6))
    )
    assert [a.code for a in answers] == [200] * 6
    paths = [s.path for s in slow.seen[before:]]
    assert paths.count("/identity/token") == 1
    assert sorted(p for p in paths if p != "/identity/token") == [
        f"/api/v1/jobs/j{i}" for i in range(6)
    ]


async def test_an_instance_given_by_name_is_resolved_to_its_crn(
    jp_http_port: int, jp_base_url: str, accounts: AccountStore, ibm_service: LocalService
) -> None:
    ibm = accounts.get("ibm")
    name = ibm_service.runtime.instance(ibm_service.instance).name
    accounts.save(
        Account(name="by-name", channel="local", token=ibm.token, url=ibm.url, instance=name),
        set_as_default=False,
    )
    answer = await call(jp_http_port, jp_base_url, "by-name/api/v1/backends")
    assert answer.code == 200, answer.body
    accounts.save(
        Account(name="bad-name", channel="local", token=ibm.token, url=ibm.url, instance="nope"),
        set_as_default=False,
    )
    answer = await call(jp_http_port, jp_base_url, "bad-name/api/v1/backends")
    assert answer.code == 403
    assert "'nope'" in json.loads(answer.body)["message"]


async def test_a_jupyter_user_posts_through_the_proxy_with_the_server_token(
    jp_fetch: Fetch, accounts: AccountStore, slow: RecordingServer
) -> None:
    answer = await jp_fetch(
        "jupyter-qrt", "runtime", "slow", "api", "v1", "jobs", method="POST", body=b'{"a": 1}'
    )
    assert answer.code == 200
    assert json.loads(answer.body) == {"path": "/api/v1/jobs", "received_bytes": 8}
