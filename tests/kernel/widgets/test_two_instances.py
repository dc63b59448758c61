"""Choosing another instance changes what the next job, the usage and the tabs use.

A local API key sees one instance (keys belong to an instance there), so the service below
lists the instances of two local keys, as one IBM Cloud key lists every instance it can use.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from typing import Any

import pytest
import traitlets

from jupyter_qrt.kernel.widgets.instances import InstancePicker
from jupyter_qrt.kernel.widgets.jobs_view import JobsTable
from jupyter_qrt.kernel.widgets.tabs import Dashboard
from jupyter_qrt.local.server import LocalService


class _BothInstances:
    """The first key's service, listing the second instance too."""

    def __init__(self, first: Any, second: Any) -> None:
        self._first, self._second = first, second

    def __getattr__(self, name: str) -> Any:
        return getattr(self._first, name)

    def instances(self) -> list[Any]:
        return self._first.instances() + self._second.instances()


@pytest.fixture(scope="module")
def two_instances() -> Iterator[tuple[Any, Any]]:
    from jupyter_qrt.runtime import RuntimeService

    with LocalService() as local:
        paid = local.runtime.create_instance("class-a", plan="standard", usage_limit_seconds=600)
        key = local.runtime.create_key(paid.crn, "class-a-key")
        second = RuntimeService(replace(local.account(), token=key, instance=paid.crn))
        yield _BothInstances(RuntimeService(local.account()), second), second


def test_the_choice_is_the_instance_of_the_next_jobs_service(two_instances: Any) -> None:
    service, second = two_instances
    picker = InstancePicker(service, service_factory=lambda crn: second)
    assert picker.crn == service.instance
    usage = {row[0]: row[4] for row in picker.rows()}
    assert usage["class-a"] == "600 s of 600 s"
    picker.crn = second.instance
    assert picker.service().instance == second.instance
    assert "paid plan" in picker._repr_mimebundle_()["text/html"]
    with pytest.raises(traitlets.TraitError, match="choose one of: local"):
        picker.crn = "crn:v1:bluemix:public:quantum-computing:local:a/0:0::"
    assert picker.crn == second.instance  # a bad choice changes nothing


def test_the_dashboard_rebuilds_its_tabs_for_the_new_instance(two_instances: Any) -> None:
    service, second = two_instances
    board = Dashboard(service, service_factory=lambda crn: second)
    board.selected_index = 2
    before = board.part(2)
    assert before._service.instance == service.instance
    board.picker.crn = second.instance
    after = board.part(2)
    assert isinstance(after, JobsTable)
    assert after is not before
    assert after._service.instance == second.instance
