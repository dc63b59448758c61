"""Faults: ``kill -9`` the standalone service with jobs queued and running, then restart it.

The service runs as a plain ``jupyter-qrt serve`` subprocess (the pid held is the service's own).
50 jobs go in over HTTP: a few slow ones first, so that some are running when the service is
killed, then quick Bell pairs (queued behind them) and two that fail on purpose. The jobs the
kill interrupted are read from the data dir as the kill left it (Running), by the core opened
without workers. After the restart on the same data dir every job is listed and ends exactly as
documented (:meth:`jupyter_qrt.local.jobs.queue.JobQueue.recover`): a job interrupted once is
queued again (one ``REQUEUED_AFTER_STOP`` line in its logs) and then Completed; every other job
not meant to fail is Completed; the two bad ones are Failed with reason code 1517. Every
Completed result decodes to the counts an ideal GHZ state gives. A second service on that data
dir is refused with a one-line error while the first one runs.
"""

from __future__ import annotations

import os
import signal
import subprocess
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import requests

from jupyter_qrt.local.job_reasons import INVALID_PUB
from jupyter_qrt.local.jobs.queue import REQUEUED_AFTER_STOP

from .core_helpers import IDEAL, SMALL_DEVICE, bell, sampler_body
from .serve_process import alive, cli, parse_exports, read_lines, workers_of

GRANT = "urn:ibm:params:oauth:grant-type:apikey"
EXPORT_LINES = 9  # QISKIT_IBM_URL ... GLOBAL_CATALOG_URL, NO_PROXY, no_proxy
START_SECONDS = 60.0
SETTLE_SECONDS = 180.0  # after the restart, for all 50 jobs (slow ones run again)
WORKER_EXIT_SECONDS = 15.0  # the workers' watchdog polls its parent every 0.5 s

SLOW_JOBS = 4  # GHZ-20, 2 pubs of 100k shots: about 2 s each on one core
FAILING_JOBS = 2  # a circuit that is not ISA for a noisy device: Failed with a reason
BELL_JOBS = 50 - SLOW_JOBS - FAILING_JOBS
SLOW_SHOTS = 100_000
BELL_SHOTS = 100
FINAL = {"Completed", "Failed", "Cancelled"}


@dataclass(frozen=True)
class Submitted:
    """What a job was asked to do, to check its result against."""

    qubits: int
    shots: int
    pubs: int
    fails: bool


class Service:
    """A ``jupyter-qrt serve`` subprocess and the HTTP calls of its default key."""

    def __init__(self, data_dir: Path) -> None:
        self.http = requests.Session()
        self.process = subprocess.Popen(
            cli("serve", "--port", "0", "--data-dir", str(data_dir), "--workers", "2"),
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
        )
        try:
            self._connect()
        except BaseException:
            self.stop()  # the caller never gets this object to stop
            raise

    def _connect(self) -> None:
        assert self.process.stdout is not None
        lines = read_lines(self.process.stdout, EXPORT_LINES, START_SECONDS)
        if len(lines) < EXPORT_LINES:
            raise AssertionError(
                f"jupyter-qrt serve printed {lines!r} within {START_SECONDS}s, "
                f"not the {EXPORT_LINES} export lines (exit status {self.process.poll()})"
            )
        env = parse_exports(lines)
        self.root = env["IAM_URL"]
        self.api = env["QISKIT_IBM_URL"]
        token = requests.post(
            f"{self.root}/identity/token",
            data={"grant_type": GRANT, "apikey": env["QISKIT_IBM_TOKEN"]},
            timeout=30,
        )
        token.raise_for_status()
        self.http.headers.update(
            {
                "Authorization": f"Bearer {token.json()['access_token']}",
                "Service-CRN": env["QISKIT_IBM_INSTANCE"],
            }
        )

    @property
    def pid(self) -> int:
        return self.process.pid

    def submit(self, body: str) -> str:
        answer = self.http.post(
            f"{self.api}/jobs",
            data=body,
            headers={"Content-Type": "application/json"},
            timeout=30,
        )
        assert answer.status_code == 200, answer.text
        job_id: str = answer.json()["id"]
        return job_id

    def jobs(self) -> list[dict[str, Any]]:
        answer = self.http.get(
            f"{self.api}/jobs", params={"limit": "200", "exclude_params": "true"}, timeout=30
        )
        assert answer.status_code == 200, answer.text
        listed: list[dict[str, Any]] = answer.json()["jobs"]
        return listed

    def results(self, job_id: str) -> Any:
        from jupyter_qrt.runtime.wire.decoding import loads

        answer = self.http.get(f"{self.api}/jobs/{job_id}/results", timeout=60)
        assert answer.status_code == 200, f"{job_id}: {answer.status_code} {answer.text[:300]}"
        return loads(answer.text)

    def logs(self, job_id: str) -> str:
        answer = self.http.get(f"{self.api}/jobs/{job_id}/logs", timeout=30)
        assert answer.status_code == 200, answer.text
        return answer.text

    def kill(self) -> None:
        """``kill -9`` the service process and reap it."""
        os.kill(self.pid, signal.SIGKILL)
        self.process.wait(timeout=30)

    def stop(self) -> None:
        """SIGTERM, then SIGKILL if it does not stop; idempotent."""
        self.http.close()
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=30)
        if self.process.stdout is not None:
            self.process.stdout.close()


def _wait_for(condition: Any, seconds: float, interval: float = 0.1) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(interval)
    return bool(condition())


@pytest.fixture
def services() -> Iterator[list[Service]]:
    """Every service a test starts; all stopped by pid at the end, whatever happened."""
    started: list[Service] = []
    try:
        yield started
    finally:
        for service in started:
            service.stop()


def _bodies() -> list[tuple[str, Submitted]]:
    from jupyter_qrt.runtime.wire.encoding import dumps

    slow = dumps(sampler_body(IDEAL, bell(20), bell(20), shots=SLOW_SHOTS))
    quick = dumps(sampler_body(IDEAL, bell(2), shots=BELL_SHOTS))
    failing = dumps(sampler_body(SMALL_DEVICE, bell(2), shots=BELL_SHOTS))  # not transpiled
    bodies = [(slow, Submitted(20, SLOW_SHOTS, 2, fails=False))] * SLOW_JOBS
    bodies += [(quick, Submitted(2, BELL_SHOTS, 1, fails=False))] * (BELL_JOBS // 2)
    bodies += [(failing, Submitted(2, BELL_SHOTS, 1, fails=True))] * FAILING_JOBS
    bodies += [(quick, Submitted(2, BELL_SHOTS, 1, fails=False))] * (BELL_JOBS - BELL_JOBS // 2)
    return bodies


def test_kill_9_with_jobs_queued_and_running_loses_and_corrupts_nothing(
    tmp_path: Path, services: list[Service]
) -> None:
    data_dir = tmp_path / "data"
    first = Service(data_dir)
    services.append(first)
    submitted: dict[str, Submitted] = {}
    for body, what in _bodies():
        submitted[first.submit(body)] = what
    assert len(submitted) == 50

    # Kill once work is under way: slow jobs running, the rest queued behind them.
    def running() -> bool:
        return any(job["state"]["status"] == "Running" for job in first.jobs())

    assert _wait_for(running, START_SECONDS), (
        f"no job started running within {START_SECONDS}s: "
        f"{Counter(job['state']['status'] for job in first.jobs())}"
    )
    workers = workers_of(first.pid)
    assert workers, "the service runs no worker process"
    first.kill()

    # The workers notice that their service is gone and end too.
    if not _wait_for(lambda: not any(alive(pid) for pid in workers), WORKER_EXIT_SECONDS):
        survivors = [pid for pid in workers if alive(pid)]
        for pid in survivors:  # ours to clean up: they were started by the service we started
            os.kill(pid, signal.SIGKILL)
        raise AssertionError(
            f"worker processes {survivors} outlived the killed service by {WORKER_EXIT_SECONDS}s"
        )

    # The jobs as the kill left them: those Running were interrupted by it.
    at_kill = _statuses_on_disk(data_dir)
    assert set(at_kill) == set(submitted), at_kill
    before_kill = Counter(at_kill.values())
    assert before_kill["Running"] >= 1, before_kill
    assert before_kill["Queued"] >= 1, before_kill
    interrupted = {job_id for job_id, status in at_kill.items() if status == "Running"}

    second = Service(data_dir)
    services.append(second)

    def settled() -> bool:  # a job missing from the list is reported below, not waited for
        return all(job["state"]["status"] in FINAL for job in second.jobs())

    if not _wait_for(settled, SETTLE_SECONDS, interval=0.25):
        pending = [(j["id"], j["state"]["status"]) for j in second.jobs()]
        pending = [(job_id, status) for job_id, status in pending if status not in FINAL]
        raise AssertionError(
            f"{len(pending)} jobs had not ended {SETTLE_SECONDS}s after the restart "
            f"(state before the kill: {dict(before_kill)}): {pending[:10]}"
        )

    listed = {job["id"]: job for job in second.jobs()}
    assert set(listed) == set(submitted), (
        f"missing after the restart: {sorted(set(submitted) - set(listed))}; "
        f"unexpected: {sorted(set(listed) - set(submitted))}"
    )
    for job_id, what in submitted.items():
        state = listed[job_id]["state"]
        if what.fails:
            assert state["status"] == "Failed", (job_id, state)
            assert state["reason_code"] == INVALID_PUB, (job_id, state)
            assert "not ISA" in state["reason"], (job_id, state)
        else:
            assert state["status"] == "Completed", (job_id, at_kill[job_id], state)
        # Interrupted once (fewer than MAX_ATTEMPTS times): queued again, once, then run again.
        requeued_lines = second.logs(job_id).count(REQUEUED_AFTER_STOP)
        assert requeued_lines == (1 if job_id in interrupted else 0), (job_id, at_kill[job_id])
        if what.fails:
            continue
        result = second.results(job_id)
        assert len(result) == what.pubs
        for pub_result in result:
            counts = pub_result.data.meas.get_counts()
            assert sum(counts.values()) == what.shots, (job_id, counts)
            assert set(counts) <= {"0" * what.qubits, "1" * what.qubits}, (job_id, counts)


def _statuses_on_disk(data_dir: Path) -> dict[str, str]:
    """``{job id: status}`` in the data dir, read by the core opened without workers.

    ``start(run_jobs=False)`` recovers nothing, so Running jobs are still Running here.
    """
    from jupyter_qrt.local.core import LocalRuntime

    runtime = LocalRuntime(data_dir)
    runtime.start(run_jobs=False)
    try:
        page = runtime.jobs(runtime.default_instance.crn, limit=200)
    finally:
        runtime.stop()
    return {job["id"]: job["state"]["status"] for job in page["jobs"]}


def test_a_second_service_on_the_same_data_dir_is_refused(
    tmp_path: Path, services: list[Service]
) -> None:
    data_dir = tmp_path / "data"
    running = Service(data_dir)
    services.append(running)
    refused = subprocess.run(
        cli("serve", "--port", "0", "--data-dir", str(data_dir)),
        capture_output=True,
        text=True,
        timeout=START_SECONDS,
    )
    assert refused.returncode == 2, refused
    assert refused.stdout == ""  # no export lines pointing at a service that is not there
    assert refused.stderr.count("\n") == 1, refused.stderr
    assert refused.stderr.startswith(
        f"jupyter-qrt: error: Another jupyter-qrt service (pid {running.pid}) is running jobs "
        f"from {data_dir}."
    ), refused.stderr
    assert "--data-dir" in refused.stderr
    # The running one is untouched.
    assert running.process.poll() is None
    assert running.jobs() == []
