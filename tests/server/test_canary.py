"""The promise, checked end to end: an API key added once never comes back out.

The canary is the key of a second local runtime service standing in for IBM. After it is added,
made the default, listed and refused in every way the account routes allow, it appears in no
response body or header, in no log record at DEBUG level, and not in the environment of a real
kernel started afterwards.
"""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from tornado.httpclient import HTTPClientError, HTTPResponse

from jupyter_qrt.local.server import LocalService
from jupyter_qrt.server.app import DEFAULT_ALLOWED_HOSTS

from .conftest import Fetch
from .upstreams import upstream

__all__ = ["upstream"]

_LOGGERS = ("", "ServerApp", "QRTExtension", "tornado", "jupyter_qrt", "urllib3", "requests")


@pytest.fixture
def qrt_config(upstream: LocalService) -> dict[str, Any]:
    return {
        "allowed_hosts": [*DEFAULT_ALLOWED_HOSTS, f"127.0.0.1:{upstream.port}"],
        "local_service": False,
    }


@pytest.fixture
def every_log_record(jp_serverapp: Any) -> Iterator[list[logging.LogRecord]]:
    """Every record of the server, the extension, tornado and the HTTP clients, at DEBUG."""
    records: list[logging.LogRecord] = []

    class Keep(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            records.append(record)

    handler = Keep(logging.DEBUG)
    (extension,) = jp_serverapp.extension_manager.extension_apps["jupyter_qrt"]
    loggers = {logging.getLogger(n) for n in _LOGGERS} | {jp_serverapp.log, extension.log}
    levels = {logger: logger.level for logger in loggers}
    for logger in loggers:
        logger.setLevel(logging.DEBUG)
        logger.addHandler(handler)
    try:
        yield records
    finally:
        for logger, level in levels.items():
            logger.removeHandler(handler)
            logger.setLevel(level)


def exposed(response: HTTPResponse) -> str:
    """Everything a response shows its caller: status line, headers, body."""
    headers = "\n".join(f"{k}: {v}" for k, v in response.headers.get_all())
    return f"{response.code} {response.reason}\n{headers}\n{response.body.decode()}"


async def call(jp_fetch: Fetch, *parts: str, **kwargs: Any) -> HTTPResponse:
    """A request under the namespace; an error answer is returned, not raised."""
    try:
        return await jp_fetch("jupyter-qrt", *parts, **kwargs)
    except HTTPClientError as exc:
        if exc.response is None:
            raise
        return exc.response


async def test_the_canary_key_never_comes_back_out(
    jp_fetch: Fetch,
    jp_serverapp: Any,
    upstream: LocalService,
    every_log_record: list[logging.LogRecord],
) -> None:
    canary = upstream.api_key
    body = {"name": "lab", "channel": "local", "url": upstream.url, "token": canary}
    responses = [
        await call(
            jp_fetch, "accounts", method="POST", body=json.dumps({**body, "set_default": True})
        ),
        await call(jp_fetch, "accounts", method="POST", body=json.dumps(body)),  # 409
        await call(
            jp_fetch,
            "accounts",
            method="POST",
            body=json.dumps({**body, "name": "lab2", "instance": "nope"}),  # 400, lists instances
        ),
        await call(
            jp_fetch,
            "accounts",
            method="POST",
            body=json.dumps({**body, "name": "lab3", "token": canary + "x"}),  # refused by IAM
        ),
        await call(jp_fetch, "accounts"),
        await call(jp_fetch, "status"),
        await call(jp_fetch, "accounts", "lab", method="PATCH", body=json.dumps({"default": True})),
        await call(
            jp_fetch,
            "accounts",
            headers={"Authorization": f"token {os.environ['QRT_KERNEL_TOKEN']}"},
        ),
    ]
    assert [r.code for r in responses] == [201, 409, 400, 400, 200, 200, 200, 200]
    for response in responses:
        assert canary not in exposed(response)
    listed = json.loads(responses[4].body)
    assert [a["name"] for a in listed["accounts"]] == ["local", "lab"]
    assert listed["default"] == "lab"

    # A kernel started now uses the account through the proxy, without its key.
    manager = jp_serverapp.kernel_manager
    kernel_id = await manager.start_kernel()
    pid = manager.get_kernel(kernel_id).provisioner.process.pid
    try:
        # What the kernel process was started with (its initial environment block).
        raw = Path(f"/proc/{pid}/environ").read_bytes().decode(errors="replace")
        kernel_env = dict(e.partition("=")[::2] for e in raw.split("\0") if e)
        assert kernel_env["QISKIT_IBM_URL"].endswith("/jupyter-qrt/runtime/lab/experimental/api/v1")
        assert kernel_env["QISKIT_IBM_INSTANCE"] == upstream.instance
        assert not [k for k, v in kernel_env.items() if canary in v]
    finally:
        await manager.shutdown_kernel(kernel_id, now=True)

    assert len(every_log_record) > 10  # the handler really saw the server's DEBUG records
    for record in every_log_record:
        assert canary not in record.getMessage(), record.name
