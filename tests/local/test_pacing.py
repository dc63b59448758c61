"""Pacing: jobs hold their device for the device time they are charged, scaled by a factor.

Without pacing a small job ends within milliseconds, so nobody can see a job Queued behind
another, watch one Running, or cancel it. With pacing on for a device, a job stays Running for
``factor`` times its quantum seconds (the device time model), and the next job on that device
waits Queued meanwhile. Everything is observed through the REST API, as a client sees it.

A 100-shot Bell job on ``qrt_wren`` is charged about 1.03 quantum seconds (1 s per job plus
100 shots of about 250 us), so a factor of 3 holds the device for about 3 s: ample for 20 ms
polls to see each state, short enough for a cheap test.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
from qiskit import QuantumCircuit
from qiskit.transpiler import generate_preset_pass_manager

from jupyter_qrt.local.devices import builtin_catalog
from jupyter_qrt.local.execution.inputs import device_target
from jupyter_qrt.local.server import LocalService
from jupyter_qrt.local.workers.pacing import Pacing

from .conftest import point_environment_at
from .core_helpers import sampler_body

WREN = "qrt_wren"
GRANT = "urn:ibm:params:oauth:grant-type:apikey"
FACTOR = 3.0
#: Polls of a job's status: every 20 ms, for at most this long (the job then fails the test).
WAIT = 60.0
RAN_TOO_LONG = 1305


class Client:
    """REST calls with the service's default key."""

    def __init__(self, service: LocalService) -> None:
        self.service = service
        answer = requests.post(
            f"{service.url}/identity/token",
            data={"grant_type": GRANT, "apikey": service.api_key},
            timeout=30,
        )
        answer.raise_for_status()
        self.headers = {
            "Authorization": f"Bearer {answer.json()['access_token']}",
            "Service-CRN": service.instance,
        }

    def submit(self, body: dict[str, Any]) -> str:
        answer = requests.post(
            f"{self.service.api_url}/jobs", headers=self.headers, json=body, timeout=30
        )
        assert answer.status_code == 200, answer.text
        return str(answer.json()["id"])

    def job(self, job_id: str) -> dict[str, Any]:
        answer = requests.get(
            f"{self.service.api_url}/jobs/{job_id}", headers=self.headers, timeout=30
        )
        answer.raise_for_status()
        details: dict[str, Any] = answer.json()
        return details

    def status(self, job_id: str) -> str:
        return str(self.job(job_id)["state"]["status"])

    def cancel(self, job_id: str) -> int:
        answer = requests.post(
            f"{self.service.api_url}/jobs/{job_id}/cancel", headers=self.headers, timeout=30
        )
        return answer.status_code

    def wait_until(self, job_id: str, statuses: set[str]) -> dict[str, Any]:
        deadline = time.monotonic() + WAIT
        while True:
            details = self.job(job_id)
            if details["state"]["status"] in statuses:
                return details
            assert time.monotonic() < deadline, f"{job_id} never reached {statuses}: {details}"
            time.sleep(0.02)


@pytest.fixture(scope="module")
def bell_isa() -> QuantumCircuit:
    """A measured Bell pair, an ISA circuit of qrt_wren."""
    circuit = QuantumCircuit(2)
    circuit.h(0)
    circuit.cx(0, 1)
    circuit.measure_all()
    target = device_target(builtin_catalog().get(WREN))
    return generate_preset_pass_manager(target=target, optimization_level=1).run(circuit)


@pytest.fixture(scope="module")
def bell_body(bell_isa: QuantumCircuit) -> dict[str, Any]:
    """A 100-shot Bell job body."""
    return sampler_body(WREN, bell_isa, shots=100)


@pytest.fixture(scope="module")
def paced(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Client]:
    data_dir = tmp_path_factory.mktemp("paced")
    with LocalService(data_dir, workers=2, pacing={WREN: FACTOR}) as service:
        yield Client(service)


@pytest.fixture(scope="module")
def unpaced(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Client]:
    data_dir = tmp_path_factory.mktemp("unpaced")
    with LocalService(data_dir, workers=2) as service:
        yield Client(service)


def _charged(details: dict[str, Any]) -> float:
    return float(details["usage"]["quantum_seconds"])


def test_second_job_waits_queued_while_the_first_runs_and_cancel_works(
    paced: Client, bell_body: dict[str, Any]
) -> None:
    first = paced.submit(bell_body)
    second = paced.submit(bell_body)
    # Both workers are free: only pacing keeps the second job off the device.
    seen = False
    deadline = time.monotonic() + WAIT
    while not seen:
        assert time.monotonic() < deadline, "never saw the first Running and the second Queued"
        statuses = (paced.status(first), paced.status(second))
        assert "Completed" not in statuses, f"a job ended without being held: {statuses}"
        seen = statuses == ("Running", "Queued")
        time.sleep(0.02)
    assert paced.job(second)["queue_position"] == 1

    assert paced.cancel(first) == 204
    cancelled = paced.wait_until(first, {"Cancelled", "Completed", "Failed"})
    assert cancelled["state"]["status"] == "Cancelled"
    # Once the device is free the second job runs, is held in turn, and completes.
    paced.wait_until(second, {"Running"})
    done = paced.wait_until(second, {"Completed", "Cancelled", "Failed"})
    assert done["state"]["status"] == "Completed"
    # The cancelled job is charged for the part it ran: never more than the whole job costs.
    assert 0.0 <= _charged(cancelled) <= _charged(done)
    assert 1.0 < _charged(done) < 1.2  # the device time model, not the wall time held


@pytest.mark.filterwarnings("ignore::DeprecationWarning")  # SamplerV2 warns in 0.51
def test_official_client_sees_running_and_queued_and_cancels(
    paced: Client, bell_isa: QuantumCircuit, tmp_path: Path
) -> None:
    from qiskit_ibm_runtime import QiskitRuntimeService, SamplerV2

    with pytest.MonkeyPatch.context() as patch:
        point_environment_at(patch, paced.service.env(), home=tmp_path)
        service = QiskitRuntimeService()
    sampler = SamplerV2(mode=service.backend(WREN))
    first = sampler.run([bell_isa], shots=100)
    second = sampler.run([bell_isa], shots=100)
    deadline = time.monotonic() + WAIT
    while (first.status(), second.status()) != ("RUNNING", "QUEUED"):
        assert time.monotonic() < deadline, (first.status(), second.status())
        time.sleep(0.02)
    first.cancel()
    first.wait_for_final_state(timeout=WAIT)
    assert first.status() == "CANCELLED"
    assert sum(second.result(timeout=WAIT)[0].data.meas.get_counts().values()) == 100


def test_hold_is_stopped_at_the_max_execution_time(
    paced: Client, bell_body: dict[str, Any]
) -> None:
    # The hold (about 3 s) outlasts a max execution time of 1 s: stopped as a real run is.
    job = paced.submit({**bell_body, "cost": 1})
    details = paced.wait_until(job, {"Completed", "Cancelled", "Failed"})
    assert details["state"]["status"] == "Cancelled"
    assert details["state"]["reason_code"] == RAN_TOO_LONG
    assert _charged(details) == 1.0


def test_without_pacing_jobs_are_not_held(unpaced: Client, bell_body: dict[str, Any]) -> None:
    first = unpaced.submit(bell_body)
    second = unpaced.submit(bell_body)
    for job in (first, second):
        details = unpaced.wait_until(job, {"Completed", "Cancelled", "Failed"})
        assert details["state"]["status"] == "Completed"
        assert 1.0 < _charged(details) < 1.2


def test_pacing_specs() -> None:
    assert not Pacing().enabled(WREN)
    pacing = Pacing.parse(["0.5", "qrt_wren=2"])
    assert pacing.factor(WREN) == 2.0
    assert pacing.factor("qrt_robin") == 0.5
    assert Pacing.parse(["qrt_wren=2"]).factor("qrt_robin") == 0.0
    assert Pacing.coerce({"qrt_wren": 1}).factor(WREN) == 1.0
    assert Pacing.coerce(0.25).factor("anything") == 0.25
    for bad in (["fast"], ["qrt_wren="], ["-1"], ["=2"]):
        with pytest.raises(ValueError, match="--pacing"):
            Pacing.parse(bad)


def test_serve_takes_pacing_and_refuses_a_bad_one(capsys: pytest.CaptureFixture[str]) -> None:
    from jupyter_qrt.local.cli import _parser

    args = _parser().parse_args(["serve", "--pacing", "1", "--pacing", "qrt_wren=0.5"])
    assert Pacing.parse(args.pacing) == Pacing(1.0, {WREN: 0.5})
    assert _parser().parse_args(["serve"]).pacing is None  # off by default
    with pytest.raises(SystemExit):
        _parser().parse_args(["serve", "--pacing", "qrt_wren=fast"])
    assert "--pacing DEVICE=FACTOR" in capsys.readouterr().err
    with pytest.raises(ValueError, match="pacing factor"):
        LocalService(pacing="fast")  # type: ignore[arg-type]
