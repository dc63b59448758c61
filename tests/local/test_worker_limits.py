"""Jobs that ask for more than a worker may give: payloads that inflate without bound (zlib
bombs), circuits that need more memory than a job may use, a circuit payload with no circuit.

Real service core, real worker processes, one worker with a small memory limit (256 MiB a job,
set through the environment as a user would set it for the Jupyter extension).
"""

from __future__ import annotations

import base64
import io
import time
import zlib
from collections.abc import Iterator
from typing import Any

import numpy as np
import pytest

from jupyter_qrt.local.core import LocalRuntime

from .core_helpers import IDEAL, WAIT, bell, sampler_body, wire

LIMIT_MB = 256
INFLATED = 400 << 20  # what the bombs inflate to: more than the limit


@pytest.fixture(scope="module")
def runtime(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalRuntime]:
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("QRT_WORKER_MEMORY_MB", str(LIMIT_MB))
        core = LocalRuntime(tmp_path_factory.mktemp("data"), workers=1)
        core.start()
    yield core
    core.stop()


def _b64_zlib(head: bytes, zeros: int) -> str:
    """base64 of zlib(``head`` followed by ``zeros`` zero bytes), compressed as it goes."""
    deflater = zlib.compressobj(9)
    parts = [deflater.compress(head)]
    chunk = bytes(1 << 20)
    for _ in range(zeros // len(chunk)):
        parts.append(deflater.compress(chunk))
    parts.append(deflater.flush())
    return base64.b64encode(b"".join(parts)).decode("ascii")


def _npy_header(shape: tuple[int, ...]) -> bytes:
    buffer = io.BytesIO()
    header = {"descr": "<f8", "fortran_order": False, "shape": shape}
    np.lib.format.write_array_header_1_0(buffer, header)
    return buffer.getvalue()


def _failure(runtime: LocalRuntime, body: dict[str, Any]) -> dict[str, Any]:
    crn = runtime.default_instance.crn
    job_id = runtime.create_job(crn, "me", body)["id"]
    state: dict[str, Any] = runtime.wait_for_job(crn, job_id, WAIT)["state"]
    assert state["status"] == "Failed", state
    return state


def _assert_runs_normally(runtime: LocalRuntime) -> None:
    crn = runtime.default_instance.crn
    job_id = runtime.create_job(crn, "me", sampler_body(IDEAL))["id"]
    assert runtime.wait_for_job(crn, job_id, WAIT)["state"]["status"] == "Completed"


def test_a_circuit_payload_that_inflates_past_the_limit_is_refused(runtime: LocalRuntime) -> None:
    bomb = {"__type__": "QuantumCircuit", "__value__": _b64_zlib(b"QISKIT", INFLATED)}
    body = sampler_body(IDEAL)
    body["params"]["pubs"] = [[bomb, None, 10]]
    state = _failure(runtime, body)
    assert state["reason_code"] == 1517
    assert f"{LIMIT_MB} MiB" in state["reason"]
    assert "--worker-memory-mb" in state["reason"]
    _assert_runs_normally(runtime)


def test_an_array_payload_that_inflates_past_the_limit_is_refused(runtime: LocalRuntime) -> None:
    from qiskit import QuantumCircuit
    from qiskit.circuit import Parameter

    circuit = QuantumCircuit(1)
    circuit.rx(Parameter("a"), 0)
    circuit.measure_all()
    rows = INFLATED // 16  # two float64 columns: the shape does not fit the circuit either
    values = {"__type__": "ndarray", "__value__": _b64_zlib(_npy_header((rows, 2)), INFLATED)}
    body = sampler_body(IDEAL)
    body["params"]["pubs"] = [[wire(circuit), values, 10]]
    state = _failure(runtime, body)
    assert state["reason_code"] == 1517
    assert f"{LIMIT_MB} MiB" in state["reason"]
    assert "--worker-memory-mb" in state["reason"]
    _assert_runs_normally(runtime)


def test_a_job_needing_more_memory_than_the_limit_fails_and_its_worker_is_replaced(
    runtime: LocalRuntime,
) -> None:
    from qiskit import QuantumCircuit

    # A 25-qubit statevector takes 512 MiB; rx keeps the simulator from a stabilizer method, and
    # cz between every pair from matrix product states (which would need little memory).
    circuit = QuantumCircuit(25)
    for qubit in range(25):
        circuit.rx(0.1 * (qubit + 1), qubit)
    for a in range(25):
        for b in range(a + 1, 25):
            circuit.cz(a, b)
    circuit.measure_all()
    scheduler = runtime._scheduler
    assert scheduler is not None
    before = scheduler.worker_pids()
    state = _failure(runtime, sampler_body(IDEAL, circuit, shots=1))
    assert state["reason_code"] == 1517
    assert f"more memory than the {LIMIT_MB} MiB" in state["reason"]
    assert "fewer qubits" in state["reason"]
    assert "--worker-memory-mb" in state["reason"]
    deadline = time.monotonic() + WAIT
    while set(scheduler.worker_pids()) & set(before):
        assert time.monotonic() < deadline, "the worker was not replaced"
        time.sleep(0.05)
    _assert_runs_normally(runtime)


def test_a_circuit_payload_without_a_circuit_fails_clearly(runtime: LocalRuntime) -> None:
    import qiskit.qpy

    buffer = io.BytesIO()
    qiskit.qpy.dump([], buffer)
    empty = base64.b64encode(zlib.compress(buffer.getvalue())).decode("ascii")
    body = sampler_body(IDEAL, bell())
    body["params"]["pubs"][0][0] = {"__type__": "QuantumCircuit", "__value__": empty}
    state = _failure(runtime, body)
    assert state["reason_code"] == 1517
    assert "holds no circuit" in state["reason"]
    assert ".." not in state["reason"]


def test_bad_worker_limits_are_refused_with_what_to_give(
    tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    data = tmp_path_factory.mktemp("unused")
    with pytest.raises(ValueError, match="whole number of MiB >= 0"):
        LocalRuntime(data, worker_memory_mb=-5)
    monkeypatch.setenv("QRT_WORKER_MEMORY_MB", "lots")
    with pytest.raises(ValueError, match=r"\$QRT_WORKER_MEMORY_MB must be a whole number"):
        LocalRuntime(data)
    monkeypatch.setenv("QRT_WORKER_START_SECONDS", "-1")
    with pytest.raises(ValueError, match="positive number of seconds"):
        LocalRuntime(data, worker_memory_mb=0, worker_start_seconds=None)
