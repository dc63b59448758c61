"""The job monitor on a real job of the in-process local service, and on the server's watcher."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from jupyter_qrt.kernel.widgets.monitor import job_monitor
from jupyter_qrt.kernel.widgets.poller import JobPoller, WatcherSource, source_for
from jupyter_qrt.kernel.widgets.server_link import server_link


def test_monitor_of_a_finished_local_job_shows_completion_and_usage(
    service: Any, bell_job: Any
) -> None:
    poller = JobPoller(start_thread=False)
    monitor = job_monitor(bell_job, service=service, poller=poller)
    poller.poll_once()
    assert monitor.status == "DONE"
    assert monitor.usage_seconds is not None
    assert monitor.usage_seconds > 0
    assert set(monitor.durations) == {"Queued", "Running"}
    assert bell_job.job_id() in monitor._repr_mimebundle_()["text/html"]
    assert poller.watched == 0


def test_the_shared_thread_brings_a_running_job_to_its_end(service: Any) -> None:
    from qiskit import QuantumCircuit
    from qiskit.transpiler import generate_preset_pass_manager

    from jupyter_qrt.runtime import Sampler

    backend = service.backend("qrt_ideal_simulator")
    circuit = QuantumCircuit(1)
    circuit.h(0)
    circuit.measure_all()
    isa = generate_preset_pass_manager(backend=backend, optimization_level=1).run(circuit)
    job = Sampler(mode=backend).run([isa], shots=50)
    poller = JobPoller(interval=0.5)
    done = threading.Event()
    monitor = job_monitor(job, service=service, poller=poller)
    monitor.observe(lambda change: done.set() if change["new"] == "DONE" else None, "status")
    if monitor.status != "DONE":
        assert done.wait(60), f"monitor still {monitor.status}"
    poller.stop()


class _Watcher(BaseHTTPRequestHandler):
    seen: list[tuple[str, str | None]] = []
    jobs: list[dict[str, Any]] = []

    def do_GET(self) -> None:
        type(self).seen.append((self.path, self.headers.get("Authorization")))
        body = json.dumps({"jobs": type(self).jobs}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture
def watcher_url() -> Iterator[str]:
    _Watcher.seen = []
    _Watcher.jobs = [{"id": "job-w", "state": {"status": "Running"}, "backend": "b"}]
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Watcher)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/"
    server.shutdown()
    server.server_close()


class _Service:
    class account:
        name = "ibm-main"

    api = None


class _Job:
    def job_id(self) -> str:
        return "job-w"


def test_under_the_server_extension_monitors_read_the_shared_watcher(watcher_url: str) -> None:
    env = {"QRT_SERVER_URL": watcher_url, "QRT_KERNEL_TOKEN": "kt-123"}
    source = source_for(_Job(), _Service(), env=env)
    assert isinstance(source, WatcherSource)
    assert "kt-123" not in repr(server_link(env))
    poller = JobPoller(start_thread=False)
    monitors = [job_monitor(_Job(), poller=poller, source=source) for _ in range(10)]
    poller.poll_once()
    assert _Watcher.seen == [("/jupyter-qrt/jobs?account=ibm-main", "token kt-123")]
    assert all(m.status == "RUNNING" for m in monitors)


def test_monitors_read_the_job_summaries_the_real_watcher_serves(watcher_url: str) -> None:
    # What GET /jupyter-qrt/jobs really lists: the watcher's summaries (status at the top level).
    from jupyter_qrt.server.watcher_source import job_summary

    def summary(status: str, **state: Any) -> dict[str, Any]:
        job = {
            "id": "job-w",
            "backend": "b",
            "program": {"id": "sampler"},
            "created": "2026-01-01T10:00:00Z",
            "running": "2026-01-01T10:00:04Z",
            "state": {"status": status, **state},
        }
        return job_summary(job)

    env = {"QRT_SERVER_URL": watcher_url, "QRT_KERNEL_TOKEN": "kt-123"}
    source = source_for(_Job(), _Service(), env=env)
    poller = JobPoller(start_thread=False)
    monitor = job_monitor(_Job(), poller=poller, source=source)
    _Watcher.jobs = [summary("Running")]
    assert "state" not in _Watcher.jobs[0]
    poller.poll_once()
    assert monitor.status == "RUNNING"
    assert monitor.durations["Queued"] == 4.0  # the watcher's times, not this kernel's
    assert 'data-qrt-status="RUNNING"' in monitor._header.value
    _Watcher.jobs = [summary("Cancelled", reason="Ran too long", reason_code=1305)]
    poller.poll_once()
    assert monitor.status == "ERROR"  # 1305: the service stopped it, as the official client says
    assert monitor.error == "Error code 1305: Ran too long"
    assert poller.watched == 0


def test_the_api_source_reads_several_local_jobs_in_one_round(
    service: Any, bell_job: Any, sweep_job: Any
) -> None:
    source = source_for(bell_job, service, env={})
    found = source.fetch({bell_job.job_id(), sweep_job.job_id()})
    assert {d["state"]["status"] for d in found.values()} == {"Completed"}
    assert found[sweep_job.job_id()]["program"]["id"] == "estimator"
