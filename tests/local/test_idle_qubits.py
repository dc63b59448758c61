"""Estimator observables that name qubits the circuit never touches.

A 3-qubit GHZ circuit laid out on qubits 0-1-2 of the 27-qubit ``qrt_kestrel`` (an ISA circuit
is as wide as its device) with observables over all 27 qubits: the 24 untouched qubits are in
``|0>``, so they must not be simulated. Before the fix the Estimator simulated every qubit an
observable names: a noisy 27-qubit run that took minutes and gigabytes.

Expected values are the textbook ones of GHZ-3 (``<ZZ> = <XXX> = 1``, ``<Z> = 0``), times
``<0|Z|0> = 1`` and ``<0|X|0> = <0|Y|0> = 0`` on the untouched qubits.
"""

from __future__ import annotations

import math

import numpy as np
from qiskit import QuantumCircuit
from qiskit.quantum_info import SparsePauliOp, Statevector
from qiskit.transpiler import generate_preset_pass_manager

from jupyter_qrt.local.devices import IDEAL_SIMULATOR_NAME, Device, builtin_catalog
from jupyter_qrt.local.execution import execute_estimator
from jupyter_qrt.local.execution.inputs import device_target

WIDTH = 27
ACTIVE = (0, 1, 2)
IDLE = [q for q in range(WIDTH) if q not in ACTIVE]
NO_PARAMETERS = np.array([], dtype=float)


def _label(letters: dict[int, str]) -> str:
    """A 27-qubit Pauli label (qubit 0 rightmost) from ``{qubit: letter}``."""
    return "".join(letters.get(q, "I") for q in reversed(range(WIDTH)))


ALL_IDLE_Z = dict.fromkeys(IDLE, "Z")
#: (observable, GHZ-3 value) pairs; each observable spans the untouched qubits.
CASES = [
    ({_label({0: "Z", 1: "Z", **ALL_IDLE_Z}): 1.0}, 1.0),
    ({_label({0: "X", 1: "X", 2: "X", **ALL_IDLE_Z}): 1.0}, 1.0),
    ({_label({0: "Z", 1: "Z", 26: "X"}): 1.0}, 0.0),
    ({_label({10: "Y", 20: "Z"}): 1.0}, 0.0),
    ({_label({0: "Z", **ALL_IDLE_Z}): 1.0}, 0.0),
    (
        {
            _label({0: "Z", 1: "Z", **ALL_IDLE_Z}): 1.0,
            _label({0: "X", 1: "X", 2: "X", 5: "Z"}): 2.0,
            _label({0: "Z", 1: "Z", 26: "X"}): -1.0,
            _label({}): 0.5,
        },
        3.5,
    ),
]


def _ghz(device: Device) -> QuantumCircuit:
    """GHZ-3 on qubits 0-1-2 of a 27-qubit circuit (an ISA circuit of a hardware-like device)."""
    logical = QuantumCircuit(WIDTH if device.simulator else 3)
    logical.h(0)
    logical.cx(0, 1)
    logical.cx(1, 2)
    if device.simulator:
        return logical  # the ideal simulator takes any circuit up to its 32 qubits
    manager = generate_preset_pass_manager(
        target=device_target(device), optimization_level=1, initial_layout=list(ACTIVE)
    )
    circuit = manager.run(logical)
    assert circuit.num_qubits == WIDTH
    return circuit


def test_ideal_simulator_gives_exact_values_simulating_three_qubits() -> None:
    ideal = builtin_catalog().get(IDEAL_SIMULATOR_NAME)
    observables = [observable for observable, _ in CASES]
    report = execute_estimator(ideal, [[_ghz(ideal), observables, NO_PARAMETERS, None]])
    result = report.result[0]
    np.testing.assert_allclose(result.data.evs, [value for _, value in CASES], atol=1e-9)
    simulation = result.metadata["simulation"]
    assert simulation["qubits"] == len(ACTIVE)
    assert (simulation["engine"], simulation["method"]) == ("qiskit-aer", "stabilizer")


def test_reduction_matches_a_full_statevector_on_a_small_register() -> None:
    # 8 qubits, 3 of them touched by a non-Clifford circuit: qiskit's own Statevector over all 8
    # is the exact reference for random Pauli sums naming every qubit.
    ideal = builtin_catalog().get(IDEAL_SIMULATOR_NAME)
    circuit = QuantumCircuit(8)
    circuit.ry(0.7, 0)
    circuit.rx(1.1, 1)
    circuit.cx(0, 2)
    circuit.cx(1, 2)
    circuit.rz(0.3, 2)
    circuit.h(1)
    rng = np.random.default_rng(5)
    observables = [
        SparsePauliOp(
            ["".join(rng.choice(list("IXYZ"), size=8)) for _ in range(6)] + ["ZZZZZZZZ"],
            coeffs=rng.normal(size=7),
        )
        for _ in range(4)
    ]
    result = execute_estimator(ideal, [[circuit, observables, NO_PARAMETERS, None]]).result[0]
    state = Statevector(circuit)
    expected = [float(np.real(state.expectation_value(o))) for o in observables]
    np.testing.assert_allclose(result.data.evs, expected, atol=1e-9)
    assert result.metadata["simulation"]["qubits"] == 3


def test_noisy_device_simulates_three_qubits_and_untouched_qubits_read_zero() -> None:
    kestrel = builtin_catalog().get("qrt_kestrel")
    circuit = _ghz(kestrel)
    wide_zz = _label({0: "Z", 1: "Z", **ALL_IDLE_Z})
    narrow_zz = _label({0: "Z", 1: "Z"})
    observables = [{wide_zz: 1.0}, {narrow_zz: 1.0}, CASES[2][0], CASES[3][0]]
    precision = 0.05  # 400 shots per group
    # One run each, as pub 0 with the same seed: the same shots wherever the same circuit runs.
    results = [
        execute_estimator(kestrel, [[circuit, [o], NO_PARAMETERS, precision]], seed=11).result[0]
        for o in observables
    ]
    wide, narrow, with_x, only_idle = (pub.data for pub in results)
    # Readout errors apply to measured Z on the device (the Estimator mitigates nothing). Its
    # default (resilience level 1) twirls measurements, which makes a qubit's flip probability the
    # mean of p(1|0) and p(0|1), so an untouched qubit's Z reads 1 - 2 * that mean: the wide term
    # is the 2-qubit term (same seed, same shots) times that factor of each of the 24 untouched
    # qubits, exactly.
    factor = math.prod(
        1.0 - (_readout(kestrel, q, "prob_meas1_prep0") + _readout(kestrel, q, "prob_meas0_prep1"))
        for q in IDLE
    )
    assert 0.0 < factor < 1.0
    np.testing.assert_allclose(wide.evs, narrow.evs * factor, rtol=1e-12)
    np.testing.assert_allclose(wide.stds, narrow.stds * factor, rtol=1e-12)
    # GHZ-3 on a Falcon-like calibration: <ZZ> is near 1 (gate and readout errors of a few
    # percent); 400 shots give a standard error under 0.05, so 0.75 is far below any seed's.
    assert float(narrow.evs[0]) > 0.75
    # X or Y on a qubit in |0> averages to 0: those terms are 0 exactly, with no spread.
    assert float(with_x.evs[0]) == 0.0
    assert float(with_x.stds[0]) == 0.0
    assert float(only_idle.evs[0]) == 0.0
    assert [pub.metadata["simulation"]["qubits"] for pub in results] == [3, 3, 3, 3]
    # GHZ-3 is a Clifford circuit: the stabilizer path ran it.
    assert results[0].metadata["simulation"]["method"] == "stabilizer"


def _readout(device: Device, qubit: int, name: str) -> float:
    assert device.properties is not None
    for entry in device.properties["qubits"][qubit]:
        if entry["name"] == name:
            return float(entry["value"])
    raise AssertionError(f"qubit {qubit} has no {name}")
