"""Jobs run end to end by the local runtime core, in real worker processes.

Each job's params are built with our wire encoder, as a client sends them; results are decoded
back into qiskit objects.
"""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest

from jupyter_qrt.local.core import LocalRuntime

from .core_helpers import IDEAL, SMALL_DEVICE, bell, cheap_body, sampler_body, wire

WAIT = 60.0  # seconds; a job here takes well under one


@pytest.fixture(scope="module")
def runtime(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalRuntime]:
    core = LocalRuntime(tmp_path_factory.mktemp("lifecycle"), workers=2)
    core.start()
    yield core
    core.stop()


@pytest.fixture(scope="module")
def crn(runtime: LocalRuntime) -> str:
    return runtime.default_instance.crn


def test_a_sampler_job_runs_to_counts(runtime: LocalRuntime, crn: str) -> None:
    from jupyter_qrt.runtime.wire.decoding import loads

    before = runtime.usage(crn)["usage_consumed_seconds"]
    job_id = runtime.create_job(crn, "me", sampler_body(IDEAL, bell(), shots=200))["id"]
    details = runtime.wait_for_job(crn, job_id, timeout=WAIT)
    assert details["state"]["status"] == "Completed", details
    assert details["usage"]["status"] == "complete"
    assert details["usage"]["quantum_seconds"] > 0

    result = loads(runtime.job_results(crn, job_id))
    counts = result[0].data.meas.get_counts()
    assert sum(counts.values()) == 200
    assert set(counts) <= {"00", "11"}  # ideal Bell pair

    metrics = runtime.job_metrics(crn, job_id)
    stamps = metrics["timestamps"]
    assert stamps["created"] <= stamps["running"] <= stamps["finished"]
    assert metrics["usage"]["status"] == "complete"
    assert metrics["qiskit_version"]
    assert runtime.usage(crn)["usage_consumed_seconds"] > before
    logs = runtime.job_logs(crn, job_id)
    assert "Running on" in logs
    assert "Completed" in logs


def test_a_noisy_device_runs_a_bell_pair(runtime: LocalRuntime, crn: str) -> None:
    from qiskit.transpiler import generate_preset_pass_manager

    from jupyter_qrt.runtime.wire.decoding import loads

    configuration = runtime.backend_configuration(crn, SMALL_DEVICE)
    pass_manager = generate_preset_pass_manager(
        optimization_level=1,
        basis_gates=configuration["basis_gates"],
        coupling_map=configuration["coupling_map"],
        seed_transpiler=1,
    )
    isa = pass_manager.run(bell())
    job_id = runtime.create_job(crn, "me", sampler_body(SMALL_DEVICE, isa, shots=300))["id"]
    details = runtime.wait_for_job(crn, job_id, timeout=WAIT)
    assert details["state"]["status"] == "Completed", details
    counts = loads(runtime.job_results(crn, job_id))[0].data.meas.get_counts()
    assert sum(counts.values()) == 300
    assert counts.get("00", 0) + counts.get("11", 0) > 200


def test_an_estimator_job_gives_expectation_values(runtime: LocalRuntime, crn: str) -> None:
    import numpy as np
    from qiskit import QuantumCircuit

    from jupyter_qrt.runtime.wire.decoding import loads

    circuit = QuantumCircuit(2)
    circuit.h(0)
    circuit.cx(0, 1)
    body = {
        "program_id": "estimator",
        "backend": IDEAL,
        "params": {
            "pubs": [[wire(circuit), {"ZZ": 1.0}, wire(np.array([], dtype=float)), None]],
            "options": {},
            "version": 2,
        },
    }
    job_id = runtime.create_job(crn, "me", body)["id"]
    details = runtime.wait_for_job(crn, job_id, timeout=WAIT)
    assert details["state"]["status"] == "Completed", details
    result = loads(runtime.job_results(crn, job_id))
    assert float(result[0].data.evs) == pytest.approx(1.0, abs=1e-6)


def test_a_circuit_wider_than_the_device_fails_with_a_clear_reason(
    runtime: LocalRuntime, crn: str
) -> None:
    job_id = runtime.create_job(crn, "me", sampler_body(SMALL_DEVICE, bell(7)))["id"]
    details = runtime.wait_for_job(crn, job_id, timeout=WAIT)
    state = details["state"]
    assert state["status"] == "Failed"
    assert state["reason_code"] == 1517
    assert "qubit" in state["reason"]
    assert "Traceback" not in state["reason"]
    assert runtime.job_results(crn, job_id) == state["reason"]


def test_params_that_cannot_be_decoded_fail_the_job(runtime: LocalRuntime, crn: str) -> None:
    job_id = runtime.create_job(crn, "me", cheap_body())["id"]
    state = runtime.wait_for_job(crn, job_id, timeout=WAIT)["state"]
    assert state["status"] == "Failed"
    assert state["reason_code"] == 1517
    assert "Traceback" not in state["reason"]


def test_a_session_becomes_active_then_inactive(runtime: LocalRuntime, crn: str) -> None:
    session = runtime.create_session(
        crn, {"mode": "dedicated", "backend": IDEAL, "interactive_ttl": 1}
    )["id"]
    job_id = runtime.create_job(crn, "me", sampler_body(IDEAL, session_id=session))["id"]
    assert runtime.wait_for_job(crn, job_id, timeout=WAIT)["state"]["status"] == "Completed"
    # Inactive once no job came for interactive_ttl (test_core_sessions.py checks the rule
    # itself on a clock it moves by hand).
    details = runtime.session(crn, session)
    for _ in range(100):
        if details["state"] == "inactive":
            break
        time.sleep(0.05)
        details = runtime.session(crn, session)
    assert details["state"] == "inactive"
    assert details["activated_at"] is not None
    assert details["last_job_completed"] is not None
    assert [s["status"] for s in details["timestamps"]][:2] == ["open", "active"]
    runtime.update_session(crn, session, {"accepting_jobs": False})
    assert runtime.session(crn, session)["state"] == "closed"


def test_jobs_from_many_threads_each_run_once(runtime: LocalRuntime, crn: str) -> None:
    from concurrent.futures import ThreadPoolExecutor

    body = sampler_body(IDEAL, shots=20, tags=["threads"])

    def submit(_: int) -> str:
        return str(runtime.create_job(crn, "me", body)["id"])

    with ThreadPoolExecutor(8) as pool:
        ids = list(pool.map(submit, range(40)))
        listed = list(pool.map(lambda _: runtime.jobs(crn, tags=["threads"]), range(8)))
    assert len(set(ids)) == 40
    assert all(page["count"] == len(page["jobs"]) for page in listed)
    for job_id in ids:
        assert runtime.wait_for_job(crn, job_id, timeout=WAIT)["state"]["status"] == "Completed"
        assert runtime.job_logs(crn, job_id).count("Running on") == 1
    assert runtime.jobs(crn, tags=["threads"])["count"] == 40
