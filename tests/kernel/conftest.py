"""Fixtures of the kernel-layer tests: a real local service and fresh IPython shells.

One :class:`LocalService` per test module. Each test gets a fresh ``InteractiveShell`` with
``%load_ext jupyter_qrt`` done, no history file, and an accounts file (under the test's own
HOME) holding an account ``svc`` for that service, marked default. Output is read with pytest's
``capsys``; after each test the kernel's connection is forgotten.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from jupyter_qrt.local.server import LocalService

IDEAL = "qrt_ideal_simulator"

BELL = """
from qiskit import QuantumCircuit
bell = QuantumCircuit(2, name="bell")
bell.h(0)
bell.cx(0, 1)
bell.measure_all()
bell
"""


@pytest.fixture(scope="module")
def local_service(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalService]:
    """The local runtime service of this module."""
    with LocalService(tmp_path_factory.mktemp("kernel-local"), workers=1) as service:
        yield service


def save_account(
    service: LocalService,
    name: str,
    *,
    key: str | None = None,
    instance: str | None = "default",
    default: bool = False,
) -> None:
    """Save a ``local`` account for ``service`` in the test's accounts file."""
    from dataclasses import replace

    from jupyter_qrt.runtime import AccountStore

    account = service.account(name)
    if key is not None:
        account = replace(account, token=key)
    if instance != "default":
        account = replace(account, instance=instance)
    AccountStore().save(account, name=name, overwrite=True, set_as_default=default)


def job_count(service: LocalService) -> int:
    """Jobs the service holds, over every instance."""
    runtime = service.runtime
    return sum(int(runtime.jobs(i.crn, limit=1)["count"]) for i in runtime.list_instances())


@pytest.fixture
def shell(local_service: LocalService) -> Iterator[Any]:
    """A fresh IPython shell with the extension loaded and account ``svc`` saved as default."""
    from IPython.core.interactiveshell import InteractiveShell
    from traitlets.config import Config

    from jupyter_qrt.kernel import connection

    save_account(local_service, "svc", default=True)
    InteractiveShell.clear_instance()
    config = Config()
    config.HistoryManager.enabled = False
    config.InteractiveShell.colors = "nocolor"
    ip = InteractiveShell.instance(config=config)
    ip.run_line_magic("load_ext", "jupyter_qrt")
    try:
        yield ip
    finally:
        if connection._current is not None:
            connection._current.close()
            connection._current = None
        InteractiveShell.clear_instance()
