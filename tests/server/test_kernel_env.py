"""The environment kernels inherit reaches the server directly, even behind an HTTP proxy."""

from __future__ import annotations

import os
from typing import Any

import pytest


@pytest.fixture
def qrt_config(monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    # A site proxy in the server's environment, with no exception for loopback: the kernels'
    # clients (requests) would send the kernel token to the proxy instead of this server.
    for name in ("NO_PROXY", "no_proxy"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("HTTPS_PROXY", "http://proxy.invalid:3128")
    monkeypatch.setenv("HTTP_PROXY", "http://proxy.invalid:3128")
    return {}


async def test_kernels_bypass_a_site_proxy_for_this_server(jp_serverapp: Any) -> None:
    import requests.utils

    server = os.environ["QRT_SERVER_URL"]
    assert requests.utils.should_bypass_proxies(server + "/jupyter-qrt/iam", None)
    for name in ("NO_PROXY", "no_proxy"):
        assert "127.0.0.1" in os.environ[name].split(",")
