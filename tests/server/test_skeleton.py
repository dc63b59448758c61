"""The extension loads in a real Jupyter server and answers its status."""

from __future__ import annotations

import os

from .conftest import Fetch, fetch_json


async def test_status_names_local_as_the_default_and_the_server_gives_kernels_a_token(
    jp_fetch: Fetch,
) -> None:
    status = await fetch_json(jp_fetch, "status")
    assert status["default_account"] == "local"
    assert status["namespace"] == "jupyter-qrt"
    assert status["local"]["state"] in {"starting", "running"}
    assert os.environ["QRT_KERNEL_TOKEN"].startswith("qrtk_")
    assert os.environ["QISKIT_IBM_URL"].endswith("/jupyter-qrt/runtime/local/experimental/api/v1")


async def test_the_account_list_shows_local_and_never_a_key(jp_fetch: Fetch) -> None:
    answer = await fetch_json(jp_fetch, "accounts")
    assert answer["default"] == "local"
    assert [a["name"] for a in answer["accounts"]] == ["local"]


def test_the_runtime_client_and_the_server_agree_on_the_namespace() -> None:
    from jupyter_qrt.runtime.accounts.account import JUPYTER_NAMESPACE
    from jupyter_qrt.server.callers import NAMESPACE

    assert JUPYTER_NAMESPACE == NAMESPACE
