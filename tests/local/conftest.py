"""Fixtures of the end-to-end suites: a real local runtime service and both clients of it.

One :class:`LocalService` per test module (``local_service``), on a temporary data dir and an
ephemeral loopback port. The clients talk to it over HTTP exactly as a user's would:

- ``official_service``: the unmodified ``qiskit_ibm_runtime.QiskitRuntimeService()``, created with
  no arguments after the ``export`` lines the service prints (``service.env()``).
- ``our_service``: ``jupyter_qrt.runtime.RuntimeService`` given those same lines as its
  environment.

Both are module-scoped, so a module pays for one start and one IAM exchange per client. The
circuits every scenario needs are fixtures too, built once per session.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from jupyter_qrt.local.server import LocalService

if TYPE_CHECKING:
    from qiskit import QuantumCircuit

    from jupyter_qrt.runtime import RuntimeService

#: Worker processes of the service: jobs that run at once. The cancel scenarios keep exactly
#: this many slow jobs running so that one more waits in the queue.
SERVICE_WORKERS = 2

#: Qubits and bindings of the slow pub: one 18-qubit statevector run per binding on the ideal
#: simulator takes about 0.1 s, so the job runs for minutes unless cancelled (4 MB of memory).
SLOW_PUB_QUBITS = 18
SLOW_PUB_BINDINGS = 1000

# Variables through which the clients find a service; cleared before the service's are set.
_CLIENT_VARIABLES = {"IAM_URL", "GLOBAL_SEARCH_URL", "GLOBAL_CATALOG_URL"}
_CLIENT_PREFIXES = ("QISKIT_IBM_", "QISKIT_FUNCTIONS_", "QRT_")


def point_environment_at(
    patch: pytest.MonkeyPatch, variables: dict[str, str], *, home: Path | None = None
) -> None:
    """Replace every client-related environment variable by ``variables`` (and HOME)."""
    for name in list(os.environ):
        if name.startswith(_CLIENT_PREFIXES) or name in _CLIENT_VARIABLES:
            patch.delenv(name, raising=False)
    if home is not None:
        patch.setenv("HOME", str(home))
    for name, value in variables.items():
        patch.setenv(name, value)


@pytest.fixture(scope="module")
def local_service(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalService]:
    """The local runtime service of this module, on a data dir of its own."""
    data_dir = tmp_path_factory.mktemp("local-service-data")
    with LocalService(data_dir, workers=SERVICE_WORKERS) as service:
        yield service


@pytest.fixture(scope="module")
def service_env(local_service: LocalService) -> dict[str, str]:
    """The ``export`` lines the service prints, as a dict."""
    return local_service.env()


@pytest.fixture
def client_env(service_env: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    """The service's ``export`` lines set in this test's process environment."""
    point_environment_at(monkeypatch, service_env)
    return dict(service_env)


@pytest.fixture(scope="module")
def official_service(service_env: dict[str, str], tmp_path_factory: pytest.TempPathFactory) -> Any:
    """``QiskitRuntimeService()`` of qiskit-ibm-runtime 0.51, unmodified, after the exports.

    The environment is only needed while it initialises: it keeps the IAM and runtime URLs it
    read, and tests run with the cleaned environment of ``tests/conftest.py``.
    """
    from qiskit_ibm_runtime import QiskitRuntimeService

    with pytest.MonkeyPatch.context() as patch:
        point_environment_at(patch, service_env, home=tmp_path_factory.mktemp("official-home"))
        return QiskitRuntimeService()


@pytest.fixture(scope="module")
def our_service(
    service_env: dict[str, str], tmp_path_factory: pytest.TempPathFactory
) -> Iterator[RuntimeService]:
    """Our ``RuntimeService``, reading the exports from an explicit environment mapping."""
    from jupyter_qrt.runtime import RuntimeService

    home = tmp_path_factory.mktemp("our-home")
    with RuntimeService(env={**service_env, "HOME": str(home)}) as service:
        yield service


@pytest.fixture(scope="session")
def service_workers() -> int:
    """How many jobs the service runs at once (its worker processes)."""
    return SERVICE_WORKERS


@pytest.fixture
def unique_tag() -> str:
    """A job tag no other test uses, to list exactly the jobs of one test."""
    return f"e2e-{uuid.uuid4().hex[:10]}"


# -- circuits ------------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def bell() -> QuantumCircuit:
    """A Bell pair, measured into the register ``meas``."""
    from qiskit import QuantumCircuit

    circuit = QuantumCircuit(2)
    circuit.h(0)
    circuit.cx(0, 1)
    circuit.measure_all()
    return circuit


@pytest.fixture(scope="session")
def bell_state() -> QuantumCircuit:
    """A Bell pair, unmeasured (for the Estimator)."""
    from qiskit import QuantumCircuit

    circuit = QuantumCircuit(2)
    circuit.h(0)
    circuit.cx(0, 1)
    return circuit


@pytest.fixture(scope="session")
def ry_entangler() -> QuantumCircuit:
    """``ry(theta)`` on qubit 0, then ``cx(0, 1)``: ``<ZZ> = 1`` and ``<IZ> = cos(theta)``."""
    from qiskit import QuantumCircuit
    from qiskit.circuit import Parameter

    circuit = QuantumCircuit(2)
    circuit.ry(Parameter("theta"), 0)
    circuit.cx(0, 1)
    return circuit


@pytest.fixture(scope="session")
def wide_circuit() -> QuantumCircuit:
    """33 qubits: one more than the ideal simulator has."""
    from qiskit import QuantumCircuit

    circuit = QuantumCircuit(33)
    circuit.h(0)
    circuit.measure_all()
    return circuit


@pytest.fixture(scope="session")
def slow_pub() -> tuple[QuantumCircuit, Any]:
    """A sampler pub for the ideal simulator that runs for minutes: ``(circuit, values)``.

    Its gates (``sx``, ``rz``, ``cx``, ``measure``) are native to the ideal simulator, so it needs
    no transpiling (which would widen it to the simulator's 32 qubits).
    """
    import numpy as np
    from qiskit import QuantumCircuit
    from qiskit.circuit import Parameter

    angle = Parameter("angle")
    circuit = QuantumCircuit(SLOW_PUB_QUBITS)
    for _ in range(3):
        for qubit in range(SLOW_PUB_QUBITS):
            circuit.sx(qubit)
            circuit.rz(angle, qubit)
            circuit.sx(qubit)
        for qubit in range(SLOW_PUB_QUBITS - 1):
            circuit.cx(qubit, qubit + 1)
    circuit.measure_all()
    values = np.linspace(0.0, 1.0, SLOW_PUB_BINDINGS).reshape(SLOW_PUB_BINDINGS, 1)
    return circuit, values
