"""One in-process local service for the widget tests, and a small job run on it."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from jupyter_qrt.local.server import LocalService


@pytest.fixture(scope="session")
def local_service() -> Iterator[LocalService]:
    with LocalService() as local:
        yield local


@pytest.fixture(scope="session")
def service(local_service: LocalService) -> Any:
    from jupyter_qrt.runtime import RuntimeService

    return RuntimeService(local_service.account())


@pytest.fixture(scope="session")
def bell_job(service: Any) -> Any:
    """A finished Sampler job: two pubs (a Bell pair, and |01> on a register named ``c``)."""
    from qiskit import ClassicalRegister, QuantumCircuit, QuantumRegister
    from qiskit.transpiler import generate_preset_pass_manager

    from jupyter_qrt.runtime import Sampler

    backend = service.backend("qrt_ideal_simulator")
    bell = QuantumCircuit(2)
    bell.h(0)
    bell.cx(0, 1)
    bell.measure_all()
    q, c = QuantumRegister(2), ClassicalRegister(2, "c")
    flip = QuantumCircuit(q, c)
    flip.x(q[0])
    flip.measure(q, c)
    pm = generate_preset_pass_manager(backend=backend, optimization_level=1)
    job = Sampler(mode=backend).run([pm.run(bell), pm.run(flip)], shots=400)
    job.result()
    return job


@pytest.fixture(scope="session")
def sweep_job(service: Any) -> Any:
    """A finished Estimator job: <Z> and <X> of RY(theta)|0> at theta = 0, pi/2, pi."""
    import numpy as np
    from qiskit import QuantumCircuit
    from qiskit.circuit import Parameter
    from qiskit.quantum_info import SparsePauliOp
    from qiskit.transpiler import generate_preset_pass_manager

    from jupyter_qrt.runtime import Estimator

    backend = service.backend("qrt_ideal_simulator")
    theta = Parameter("theta")
    circuit = QuantumCircuit(1)
    circuit.ry(theta, 0)
    isa = generate_preset_pass_manager(backend=backend, optimization_level=1).run(circuit)
    observables = [
        [SparsePauliOp(p).apply_layout(isa.layout)] for p in ("Z", "X")
    ]  # shape (2, 1): broadcast against 3 parameter sets -> evs of shape (2, 3)
    angles = np.array([[0.0], [np.pi / 2], [np.pi]])
    job = Estimator(mode=backend).run([(isa, observables, angles)], precision=0.05)
    job.result()
    return job
