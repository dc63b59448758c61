"""The job monitor and the kernel's one shared poller."""

from __future__ import annotations

import pytest

from jupyter_qrt.kernel.widgets.monitor import RUNNING_MEANS, job_monitor
from jupyter_qrt.kernel.widgets.poller import ApiSource, JobPoller

from .fakes import FakeApi, FakeJob


def _round_calls(api: FakeApi, poller: JobPoller) -> int:
    before = api.upstream
    poller.poll_once()
    return api.upstream - before


@pytest.mark.parametrize("distinct_jobs", [False, True])
def test_fifty_monitors_cost_the_same_upstream_polls_per_round_as_one(distinct_jobs: bool) -> None:
    api = FakeApi()
    for n in range(50):
        api.add(f"job-{n}")
    source = ApiSource(api)

    one_poller = JobPoller(start_thread=False)
    job_monitor(FakeJob("job-0", api), poller=one_poller, source=source)
    one = _round_calls(api, one_poller)

    many_poller = JobPoller(start_thread=False)
    ids = [f"job-{n}" if distinct_jobs else "job-0" for n in range(50)]
    monitors = [job_monitor(FakeJob(i, api), poller=many_poller, source=source) for i in ids]
    many = _round_calls(api, many_poller)

    assert one == 1
    assert many == one, api.calls
    assert all(m.status == "RUNNING" for m in monitors)


def test_a_finished_job_is_read_once_more_fanned_out_and_dropped() -> None:
    api = FakeApi()
    api.add("job-a")
    poller = JobPoller(start_thread=False)
    monitors = [job_monitor(FakeJob("job-a", api), poller=poller) for _ in range(3)]
    poller.poll_once()
    api.states["job-a"]["state"] = {"status": "Completed"}
    api.states["job-a"]["usage"] = {"quantum_seconds": 1.5, "status": "complete"}
    api.calls.clear()
    poller.poll_once()
    # One status read and one metrics read for three monitors.
    assert api.calls == {"job": 1, "job_metrics": 1}
    assert poller.watched == 0
    for monitor in monitors:
        assert monitor.status == "DONE"
        assert monitor.usage_seconds == 1.5
        # From the service's timestamps: created 00:00, running 00:02, finished 00:05.
        assert monitor.durations == {"Queued": 2.0, "Running": 3.0}
        bundle = monitor._repr_mimebundle_()
        assert "Completed" in bundle["text/html"]
        assert "1.5 quantum seconds" in bundle["text/plain"]
        assert "Queued: 2.0 s" in bundle["text/plain"]


def test_running_says_what_it_means_and_cancel_calls_the_job() -> None:
    api = FakeApi()
    api.add("job-r")
    poller = JobPoller(start_thread=False)
    monitor = job_monitor(FakeJob("job-r", api), poller=poller, source=ApiSource(api))
    poller.poll_once()
    html = monitor._repr_mimebundle_()["text/html"]
    assert "pre-processing" in html
    assert "not necessarily" in RUNNING_MEANS
    monitor._cancel.click()
    assert api.calls["cancel_job"] == 1
    assert monitor.status == "CANCELLED"
    assert monitor._cancel.disabled
    assert monitor.error == ""  # cancelled on request: no error to show


def test_a_failed_job_shows_the_services_reason() -> None:
    api = FakeApi()
    api.add("job-f", status="Failed", reason="Circuit too deep for the device", reason_code=1517)
    poller = JobPoller(start_thread=False)
    monitor = job_monitor(FakeJob("job-f", api), poller=poller, source=ApiSource(api))
    poller.poll_once()
    assert monitor.status == "ERROR"
    assert monitor.error == "Error code 1517: Circuit too deep for the device"
    bundle = monitor._repr_mimebundle_()
    assert "Circuit too deep" in bundle["text/html"]
    assert "Failed" in bundle["text/plain"]


def test_a_poll_that_fails_keeps_the_monitor_and_tries_again() -> None:
    api = FakeApi()
    api.add("job-x")
    poller = JobPoller(start_thread=False)
    monitor = job_monitor(FakeJob("job-x", api), poller=poller, source=ApiSource(api))
    saved = dict(api.states)
    api.states.clear()  # every read now raises KeyError, like a dead network
    for _ in range(10):
        poller.poll_once()
    # Reads at rounds 1, 3 and 7 only: a dead network is retried at a falling rate.
    assert api.calls["job"] == 3
    assert poller.watched == 1
    api.states.update(saved)
    api.states["job-x"]["state"] = {"status": "Completed"}
    for _ in range(8):  # the next retry is due within 8 rounds
        poller.poll_once()
    assert monitor.status == "DONE"


def test_monitors_made_the_usual_way_share_the_kernels_one_poller_thread() -> None:
    import threading

    from jupyter_qrt.kernel.widgets.poller import shared_poller

    api = FakeApi()
    api.add("job-s", status="Queued")
    source = ApiSource(api)
    try:
        monitors = [job_monitor(FakeJob("job-s", api), source=source) for _ in range(50)]
        assert {m._poller for m in monitors} == {shared_poller()}
        threads = [t for t in threading.enumerate() if t.name == "jupyter-qrt-job-poller"]
        assert len(threads) == 1
    finally:
        shared_poller().stop()


def test_something_that_is_not_a_job_gets_one_message() -> None:
    with pytest.raises(TypeError, match=r"Sampler\.run"):
        job_monitor("d0fd6abc")


def test_a_queued_job_shows_its_place_in_the_queue() -> None:
    api = FakeApi()
    api.add("job-q", status="Queued")
    api.states["job-q"]["queue_position"] = 3
    poller = JobPoller(start_thread=False)
    monitor = job_monitor(FakeJob("job-q", api), poller=poller, source=ApiSource(api))
    poller.poll_once()
    assert "Queued (position 3 in the queue)" in monitor._repr_mimebundle_()["text/plain"]
    assert "Queued" in monitor.durations


def test_a_cancelled_job_does_not_flip_back_while_the_service_catches_up() -> None:
    api = FakeApi()
    api.add("job-c")
    poller = JobPoller(start_thread=False)
    monitor = job_monitor(FakeJob("job-c", api), poller=poller, source=ApiSource(api))
    monitor._cancel.click()
    api.states["job-c"]["state"] = {"status": "Running"}  # the service has not stopped it yet
    poller.poll_once()
    assert monitor.status == "CANCELLED"
    api.states["job-c"]["state"] = {"status": "Cancelled"}
    poller.poll_once()
    assert monitor.status == "CANCELLED"
    assert poller.watched == 0
