"""Helpers for the tests of the local runtime core (``test_core*.py``, ``test_scheduler.py``)."""

from __future__ import annotations

import json
from typing import Any

SMALL_DEVICE = "qrt_wren"  # 5 qubits
IDEAL = "qrt_ideal_simulator"


def wire(obj: Any) -> Any:
    """``obj`` in wire form (as a client's JSON body carries it), via our encoder."""
    from jupyter_qrt.runtime.wire.encoding import dumps

    return json.loads(dumps(obj))


def bell(num_qubits: int = 2) -> Any:
    """A GHZ circuit on ``num_qubits`` qubits with measurements (a Bell pair for 2)."""
    from qiskit import QuantumCircuit

    circuit = QuantumCircuit(num_qubits)
    circuit.h(0)
    for target in range(1, num_qubits):
        circuit.cx(0, target)
    circuit.measure_all()
    return circuit


def long_circuit(layers: int = 600) -> Any:
    """20 qubits, ``layers`` layers: the ideal simulator needs ~40-60 ms a layer (600: ~30 s)."""
    from qiskit import QuantumCircuit

    width = 20
    circuit = QuantumCircuit(width)
    for layer in range(layers):
        for qubit in range(width):
            circuit.rx(0.1 + layer * 0.01 + qubit * 0.001, qubit)
        for qubit in range(layer % 2, width - 1, 2):
            circuit.cx(qubit, qubit + 1)
    circuit.measure_all()
    return circuit


def sampler_params(*circuits: Any, shots: int = 100) -> dict[str, Any]:
    """The ``params`` of a SamplerV2 job running each circuit as a pub."""
    import numpy as np

    pubs = [[circuit, np.array([], dtype=float), shots] for circuit in circuits]
    return {"pubs": wire(pubs), "options": {}, "version": 2, "support_qiskit": True}


def sampler_body(backend: str, *circuits: Any, shots: int = 100, **extra: Any) -> dict[str, Any]:
    """A ``POST /jobs`` body for a SamplerV2 job."""
    body: dict[str, Any] = {
        "program_id": "sampler",
        "backend": backend,
        "params": sampler_params(*(circuits or (bell(),)), shots=shots),
        "log_level": "WARNING",
    }
    body.update(extra)
    return body


def cheap_body(backend: str = SMALL_DEVICE, **extra: Any) -> dict[str, Any]:
    """A job body that needs no qiskit to build (its pub is bad: the job fails when it runs)."""
    body: dict[str, Any] = {
        "program_id": "sampler",
        "backend": backend,
        "params": {"pubs": [["not a circuit", None, 10]], "version": 2},
    }
    body.update(extra)
    return body


#: Seconds a queue test waits for a job to reach a state before it fails.
WAIT = 60.0


def wait_status(
    runtime: Any, crn: str, job_id: str, status: str, timeout: float = WAIT
) -> dict[str, Any]:
    """Poll ``runtime.job`` until the job is in ``status``; return its details."""
    import time

    deadline = time.monotonic() + timeout
    while True:
        details: dict[str, Any] = runtime.job(crn, job_id)
        if details["state"]["status"] == status:
            return details
        assert time.monotonic() < deadline, f"job {job_id} never became {status}: {details}"
        time.sleep(0.02)


def started_at(runtime: Any, crn: str, job_id: str) -> str:
    """When the job started running (its metrics' ``running`` timestamp), once it has ended."""
    runtime.wait_for_job(crn, job_id, WAIT)
    started = runtime.job_metrics(crn, job_id)["timestamps"]["running"]
    assert started is not None, f"job {job_id} never ran"
    return str(started)
