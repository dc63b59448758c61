"""Instance picker, jobs table and dashboard, on the local service and on counting fakes."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest

from jupyter_qrt.kernel.widgets.expectation import ExpectationPlot
from jupyter_qrt.kernel.widgets.histogram_view import Histogram
from jupyter_qrt.kernel.widgets.instances import InstancePicker, usage_left
from jupyter_qrt.kernel.widgets.jobs_view import JobsTable
from jupyter_qrt.kernel.widgets.monitor import JobMonitor
from jupyter_qrt.kernel.widgets.poller import ApiSource, JobPoller
from jupyter_qrt.kernel.widgets.tabs import Dashboard

from .fakes import FakeApi


def test_the_picker_shows_the_local_instance_with_its_usage(service: Any, bell_job: Any) -> None:
    picker = InstancePicker(service)
    assert picker.crn == service.instance
    assert picker.service() is service
    ((name, plan, region, crn, left),) = picker.rows()
    assert (name, plan, region, crn) == ("local", "open", "local", service.instance)
    assert left.startswith("no limit (")  # the local instance has no limit; bell_job used some
    assert service.instance in picker._repr_mimebundle_()["text/html"]


@dataclass(frozen=True)
class _Instance:
    crn: str
    name: str
    plan: str
    pricing_type: str
    region: str = "us-east"


class _TwoInstances:
    instance = "crn:a"
    account = None

    def instances(self) -> list[_Instance]:
        return [
            _Instance("crn:a", "open-one", "open", "free"),
            _Instance("crn:b", "paid", "standard", "paygo"),
        ]

    def usage(self) -> dict[str, Any]:
        return {
            "usage_consumed_seconds": 12,
            "usage_limit_seconds": 600,
            "usage_limit_reached": False,
        }


def test_changing_the_choice_changes_the_service_the_next_job_uses() -> None:
    made: list[str] = []

    def factory(crn: str) -> Any:
        made.append(crn)
        return _TwoInstances()

    picker = InstancePicker(_TwoInstances(), service_factory=factory)
    seen: list[str] = []
    picker.observe(lambda change: seen.append(change["new"]), "crn")
    picker.children[0].value = "crn:b"  # what a click in the dropdown does
    assert seen == ["crn:b"]
    assert picker.crn == "crn:b"
    picker.service()
    assert made[-1] == "crn:b"
    assert "paid plan" in picker._repr_mimebundle_()["text/html"]
    assert picker.rows()[0][4] == "588 s of 600 s"


def test_usage_left_reads_every_shape_of_the_usage_answer() -> None:
    assert (
        usage_left({"usage_consumed_seconds": 5, "usage_allocation_seconds": 60}) == "55 s of 60 s"
    )
    assert usage_left({"usage_limit_reached": True}).startswith("none")
    assert usage_left({}) == "no limit (0 s used)"


def test_the_jobs_table_lists_local_jobs_and_opens_their_results(
    service: Any, bell_job: Any, sweep_job: Any
) -> None:
    table = JobsTable(service, limit=10, poller=JobPoller(start_thread=False))
    ids = [j.job_id() for j in table.jobs]
    assert {bell_job.job_id(), sweep_job.job_id()} <= set(ids)
    assert table.status(bell_job.job_id()) == "DONE"
    assert table._cancel[bell_job.job_id()].disabled
    assert isinstance(table.open_job(bell_job.job_id()), Histogram)
    assert isinstance(table.open_job(sweep_job.job_id()), ExpectationPlot)
    html = table._repr_mimebundle_()["text/html"]
    assert f"<td>{bell_job.job_id()}</td><td>DONE</td><td>qrt_ideal_simulator</td>" in html
    with pytest.raises(ValueError, match="%qrt_job"):
        table.open_job("no-such-job")


class _FakeJob:
    def __init__(self, job_id: str, api: FakeApi) -> None:
        self._id, self._api = job_id, api
        self.program_id = "sampler"

    def job_id(self) -> str:
        return self._id

    @property
    def details(self) -> dict[str, Any]:
        return dict(self._api.states[self._id])

    def cancel(self) -> None:
        self._api.cancel_job(self._id)


class _FakeService:
    def __init__(self, api: FakeApi) -> None:
        self.api = api
        self.account = None

    def jobs(self, limit: int) -> list[_FakeJob]:
        return [_FakeJob(i, self.api) for i in list(self.api.states)[:limit]]


def test_pending_rows_update_from_the_shared_poller_and_cancel() -> None:
    api = FakeApi()
    for n in range(5):
        api.add(f"job-{n}", status="Queued")
    poller = JobPoller(start_thread=False)
    table = JobsTable(_FakeService(api), limit=5, poller=poller)
    api.states["job-1"]["state"] = {"status": "Running"}
    api.calls.clear()
    poller.poll_once()
    assert api.calls == {"jobs": 1}  # five pending rows, one request
    assert table.status("job-1") == "RUNNING"
    table.cancel("job-2")
    api.states["job-2"]["state"] = {"status": "Running"}  # the service lags the cancel
    poller.poll_once()
    assert table.status("job-2") == "CANCELLED"
    assert table._cancel["job-2"].disabled
    assert isinstance(table.open_job("job-1"), JobMonitor)
    assert isinstance(ApiSource(api), ApiSource)


def test_the_dashboard_builds_its_tabs_on_demand(service: Any, bell_job: Any) -> None:
    board = Dashboard(service)
    assert board.titles == ("Account", "Backends", "Jobs")
    assert set(board._parts) == {0}
    board.selected_index = 2
    assert isinstance(board.part(2), JobsTable)
    board.selected_index = 1
    html = board._repr_mimebundle_()["text/html"]
    assert "qrt_robin" in html
    assert bell_job.job_id() in html
    assert service.instance in html
