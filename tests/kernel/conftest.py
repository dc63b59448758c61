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


PLOTLY = "application/vnd.plotly.v1+json"


class Shown:
    """What the shell displayed, as a frontend keeps it: each display id's latest bundle.

    Installed as the shell's display publisher; it records every ``display_data`` and
    ``update_display_data`` (also from the poller's thread) and still prints ``text/plain``.
    """

    def __init__(self, shell: Any) -> None:
        from IPython.core.displaypub import DisplayPublisher

        records: list[dict[str, Any]] = []
        self.records = records

        class Recorder(DisplayPublisher):  # type: ignore[misc]
            def publish(  # type: ignore[no-untyped-def]
                self, data, metadata=None, source=None, *, transient=None, update=False, **kw
            ) -> None:
                records.append({"data": data, "transient": transient or {}, "update": update})
                super().publish(data, metadata, transient=transient, update=update, **kw)

        shell.display_pub = Recorder(shell=shell)

    def outputs(self) -> list[dict[str, Any]]:
        """The outputs as a saved notebook holds them: updates replace their display."""
        out: list[dict[str, Any]] = []
        where: dict[str, int] = {}
        for record in list(self.records):
            display_id = record["transient"].get("display_id")
            if record["update"]:
                if display_id in where:
                    out[where[display_id]] = record["data"]
                continue
            if display_id is not None:
                where[display_id] = len(out)
            out.append(record["data"])
        return out

    def clear(self) -> None:
        self.records.clear()

    def figures(self) -> list[dict[str, Any]]:
        """The plotly figures shown (histograms, expectation plots)."""
        return [o[PLOTLY] for o in self.outputs() if PLOTLY in o]

    def monitors(self) -> list[dict[str, Any]]:
        """The job monitors' bundles as they are now (text/plain starts with ``Job``)."""
        return [o for o in self.outputs() if str(o.get("text/plain", "")).startswith("Job ")]

    def updates(self) -> int:
        """How many displays were updated in place."""
        return sum(1 for r in self.records if r["update"])


@pytest.fixture
def shown(shell: Any) -> Shown:
    """Every display of ``shell`` from now on."""
    return Shown(shell)


def bars(figure: dict[str, Any]) -> dict[str, float]:
    """Outcome -> height of a one-series histogram figure."""
    (trace,) = figure["data"]
    return dict(zip(trace["x"], trace["y"], strict=True))
