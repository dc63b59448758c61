"""The calibrated noise models of every builtin device load into qiskit-aer at every width.

Regression of "The simulator failed: ERROR: QuantumError: Kraus is empty." (a GHZ chain of 20
qubits on qrt_gannet): each two-qubit gate error used to be one 16-operator Kraus channel taken
from an eigendecomposition of its Choi matrix. qiskit-aer turns such a channel back into
canonical Kraus form itself (LAPACK ``zheevx``) whenever a simulation method needs Kraus
operators (matrix product state, and statevector once the circuit reaches certain gates); on the
depolarizing channel's clustered eigenvalues that eigensolver fails for some calibrations
(21 ``cz`` pairs of qrt_gannet, one ``ecr`` pair of qrt_pelican), giving an empty Kraus set, a
LAPACK error or a crash. The active qubits of wider circuits reach those pairs.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from qiskit import QuantumCircuit
from qiskit.quantum_info import average_gate_fidelity
from qiskit_aer import AerSimulator

from jupyter_qrt.local.devices import Device, builtin_catalog
from jupyter_qrt.local.execution import run_sampler
from jupyter_qrt.local.execution.inputs import device_target
from jupyter_qrt.local.execution.noise import noise_model_for

NOISY = [d for d in builtin_catalog().devices() if not d.simulator]
WIDTHS = (2, 8, 20, None)  # None: the whole device


def _calibrated_gates(device: Device, qubits: set[int]) -> list[tuple[str, tuple[int, ...]]]:
    """Every calibrated gate (not rz: virtual, no error) acting only on ``qubits``."""
    gates = []
    for gate in device.properties["gates"] if device.properties else []:
        on = tuple(int(q) for q in gate["qubits"])
        if gate["gate"] not in ("rz", "measure", "reset", "delay") and set(on) <= qubits:
            gates.append((gate["gate"], on))
    return gates


def _every_gate_circuit(device: Device, qubits: set[int]) -> QuantumCircuit:
    """An ISA circuit running each calibrated gate among ``qubits`` once, then measuring them."""
    target = device_target(device)
    circuit = QuantumCircuit(device.num_qubits, len(qubits))
    for name, on in _calibrated_gates(device, qubits):
        circuit.append(target.operation_from_name(name), list(on))
    circuit.measure(sorted(qubits), range(len(qubits)))
    return circuit


@pytest.mark.parametrize("width", WIDTHS, ids=lambda w: f"width{w or 'All'}")
@pytest.mark.parametrize("device", NOISY, ids=lambda d: d.name)
def test_every_gate_error_loads_into_aer(device: Device, width: int | None) -> None:
    qubits = set(range(min(width or device.num_qubits, device.num_qubits)))
    model = noise_model_for(device, qubits)
    assert model is not None
    for errors in model._local_quantum_errors.values():
        for error in errors.values():
            for noise in error.circuits:
                # Aer re-decomposes any multi-qubit Kraus channel; none must be left to it
                # (checked first: the failing decomposition can crash the process).
                kinds = {(i.operation.name, len(i.qubits)) for i in noise.data}
                assert not {k for k in kinds if k[0] == "kraus" and k[1] > 1}, kinds
    if len(qubits) > 32:
        return  # built and checked; simulating every gate of a 127/156-qubit device takes ~10 s
    circuit = _every_gate_circuit(device, qubits)
    # A model holding a Kraus channel made Aer ask for the canonical Kraus form of every error
    # (statevector and matrix product state), the conversion that failed. Matrix product state
    # stays cheap at any width here: the state stays a product state (basis states, cz/cx/ecr
    # and Pauli/reset noise only).
    methods = ["matrix_product_state"] + (["statevector", "density_matrix"] if width == 2 else [])
    methods += ["statevector"] if width == 8 else []
    for method in methods:
        simulator = AerSimulator(method=method, noise_model=model)
        result = simulator.run(circuit, shots=16, seed_simulator=7).result()
        assert result.success, f"{device.name}, {len(qubits)} qubits, {method}: {result.status}"
        assert sum(result.get_counts().values()) == 16


@pytest.mark.parametrize("device", NOISY, ids=lambda d: d.name)
def test_gate_errors_keep_the_calibrated_average_infidelity(device: Device) -> None:
    """The channel of each gate has the calibration's ``gate_error`` as average infidelity."""
    model = noise_model_for(device)
    assert model is not None
    target = device_target(device)
    checked = 0
    for name, on in _calibrated_gates(device, set(range(device.num_qubits)))[::17]:
        error = model._local_quantum_errors[name][tuple(on)]
        reported = target[name][on].error
        infidelity = 1.0 - average_gate_fidelity(error.to_quantumchannel())
        # Exact up to float rounding: the depolarizing part is sized from the relaxation's
        # own fidelity (average fidelity is linear in the channel). A gate whose relaxation
        # alone exceeds its reported error keeps the relaxation and gets no Pauli errors.
        if not math.isclose(infidelity, reported, rel_tol=1e-6, abs_tol=1e-9):
            assert infidelity > reported, (name, on, infidelity, reported)
            paulis = {
                p
                for circuit, p in zip(error.circuits, error.probabilities, strict=True)
                if any(i.operation.name in ("x", "y") for i in circuit.data)
            }
            assert paulis == {0.0}, (name, on)
        checked += 1
    assert checked > 0


@pytest.mark.parametrize("width", [2, 8])
@pytest.mark.parametrize("device", NOISY, ids=lambda d: d.name)
def test_a_small_ghz_job_runs_on_every_device(device: Device, width: int) -> None:
    """A GHZ chain on the device's first qubits samples through the Sampler program."""
    width = min(width, device.num_qubits)
    from qiskit import transpile

    ghz = QuantumCircuit(width)
    ghz.h(0)
    for qubit in range(width - 1):
        ghz.cx(qubit, qubit + 1)
    ghz.measure_all()
    isa = transpile(ghz, target=device_target(device), optimization_level=1, seed_transpiler=3)
    shots = 200
    counts = run_sampler(device, [isa], options={"default_shots": shots}, seed=5)[0]
    counts = counts.data.meas.get_counts()
    assert sum(counts.values()) == shots
    # At most ~40 noisy gates of infidelity <= 3 %, plus readout: the two GHZ outcomes still
    # dominate (well above half the shots on every calibration of the catalog).
    ghz_shots = counts.get("0" * width, 0) + counts.get("1" * width, 0)
    assert ghz_shots > shots / 2, counts
    assert np.all([len(key) == width for key in counts])
