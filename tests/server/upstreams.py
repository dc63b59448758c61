"""Upstreams for the vault's tests: a second local runtime service standing in for IBM (its key
is the canary), a port nobody listens on, and raw requests to the test server (cookies, XSRF)."""

from __future__ import annotations

import json
import socket
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from tornado.httpclient import HTTPResponse

from jupyter_qrt.local.server import LocalService


@pytest.fixture(scope="module")
def upstream(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalService]:
    """Another local service on a loopback port: the "IBM" of the vault's tests.

    One per test module (starting one costs a worker process); tests only check keys and list
    instances on it, so they do not disturb one another.
    """
    data_dir: Path = tmp_path_factory.mktemp("upstream")
    with LocalService(data_dir, workers=1) as service:
        yield service


def closed_port() -> int:
    """A loopback port with nothing listening (bound, then released)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def raw_fetch(
    client: Any, base_url: str, path: str, *, method: str = "GET", body: Any = None, **kwargs: Any
) -> HTTPResponse:
    """A request to the test server (``http_server_client``) without the server token."""
    data = None if body is None else (body if isinstance(body, str) else json.dumps(body))
    response: HTTPResponse = await client.fetch(
        f"{base_url}{path}",
        method=method,
        body=data,
        raise_error=False,
        follow_redirects=False,
        allow_nonstandard_methods=True,
        **kwargs,
    )
    return response


def cookies_of(response: HTTPResponse) -> dict[str, str]:
    """The cookies a response sets, by name."""
    found = {}
    for header in response.headers.get_list("Set-Cookie"):
        name, _, rest = header.partition("=")
        found[name.strip()] = rest.split(";", 1)[0]
    return found
