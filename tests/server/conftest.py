"""Fixtures of the server extension's tests: a real Jupyter server (pytest-jupyter) with
jupyter-qrt enabled, isolated in temporary dirs, and the environment restored afterwards (the
extension sets kernel variables and takes classroom keys out of ``os.environ``)."""

from __future__ import annotations

import json
import os
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

# The server fixtures (jp_fetch, jp_serverapp, ...) for this directory only: as a plugin they would
# add their autouse fixtures (a ServerApp cleanup after every test) to the whole suite.
from pytest_jupyter.jupyter_server import *  # noqa: F403

Fetch = Callable[..., Awaitable[Any]]


@pytest.fixture(autouse=True)
def _environment_restored() -> Iterator[None]:
    saved = dict(os.environ)
    try:
        yield
    finally:
        os.environ.clear()
        os.environ.update(saved)


@pytest.fixture
def accounts_file(tmp_path: Path) -> Path:
    """An accounts file of the test's own (absent until something saves to it)."""
    return tmp_path / "qiskit-ibm.json"


@pytest.fixture
def qrt_config() -> dict[str, Any]:
    """Extra ``c.QRTExtension`` settings; tests override this fixture."""
    return {}


@pytest.fixture
def jp_server_config(
    accounts_file: Path, tmp_path: Path, qrt_config: dict[str, Any]
) -> dict[str, Any]:
    return {
        "ServerApp": {"jpserver_extensions": {"jupyter_qrt": True}},
        "QRTExtension": {
            "accounts_file": str(accounts_file),
            "local_data_dir": str(tmp_path / "local-service"),
            "local_workers": 1,
            **qrt_config,
        },
    }


async def fetch_json(jp_fetch: Fetch, *parts: str, **kwargs: Any) -> Any:
    """``jp_fetch`` under the namespace, decoded."""
    response = await jp_fetch("jupyter-qrt", *parts, **kwargs)
    return json.loads(response.body)
