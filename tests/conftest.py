"""Shared test set-up: no test ever touches the real home directory or the network."""

from __future__ import annotations

import os

import pytest


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
