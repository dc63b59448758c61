"""Shared test set-up: no test ever touches the real home directory or the network."""

from __future__ import annotations

import os

import pytest
from hypothesis import settings

# Property tests draw the same examples on every run and keep no example database, so a CI run
# never fails on a draw no earlier run made; print_blob tells how to replay a failure.
settings.register_profile(
    "jupyter-qrt", derandomize=True, database=None, deadline=None, print_blob=True
)
settings.load_profile("jupyter-qrt")


@pytest.fixture(autouse=True)
def _isolated_env(
    tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Point HOME and every variable the clients read at places of the test's own."""
    home = tmp_path_factory.mktemp("home")
    monkeypatch.setenv("HOME", str(home))
    for name in list(os.environ):
        if name.startswith(("QISKIT_IBM_", "QRT_")) or name in {
            "IAM_URL",
            "GLOBAL_SEARCH_URL",
            "GLOBAL_CATALOG_URL",
            "QISKIT_FUNCTIONS_EXPERIMENTAL",
        }:
            monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")
    monkeypatch.setenv("no_proxy", "127.0.0.1,localhost")
