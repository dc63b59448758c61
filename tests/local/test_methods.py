"""Choosing the Aer method per run, refusing runs too big for memory, and naming the method.

The method is reported in every pub result's metadata as ``"simulation"`` (the shared
convention): ``method``, ``engine``, ``noise``, ``qubits``.
"""

from __future__ import annotations

import pytest
from qiskit import QuantumCircuit, transpile

from jupyter_qrt.local.devices import Device, builtin_catalog
from jupyter_qrt.local.execution import ExecutionError, run_program, run_sampler, simulate
from jupyter_qrt.local.execution.inputs import device_target
from jupyter_qrt.local.execution.methods import (
    DENSITY_MATRIX,
    MATRIX_PRODUCT_STATE,
    STATEVECTOR,
    bond_exponent,
    plan_simulation,
)

GIB = 1 << 30


@pytest.fixture(scope="module")
def gannet() -> Device:
    return builtin_catalog().get("qrt_gannet")


def ghz_twice(n: int) -> QuantumCircuit:
    """The issue's circuit: GHZ chain, rx(0.1) on every qubit, another cx chain, measure."""
    circuit = QuantumCircuit(n)
    circuit.h(0)
    for q in range(n - 1):
        circuit.cx(q, q + 1)
    for q in range(n):
        circuit.rx(0.1, q)
    for q in range(n - 1):
        circuit.cx(q, q + 1)
    circuit.measure_all()
    return circuit


def dense(n: int, layers: int) -> QuantumCircuit:
    """All-to-all entangling layers (non-Clifford): no low-entanglement structure at all."""
    circuit = QuantumCircuit(n)
    for _ in range(layers):
        for q in range(n):
            circuit.rx(0.3, q)
        for q in range(n):
            for r in range(q + 1, n):
                circuit.cz(q, r)
    circuit.measure_all()
    return circuit


# ----------------------------------------------------------------------------- method choice
def test_small_noisy_runs_with_many_shots_use_a_density_matrix() -> None:
    plan = plan_simulation([ghz_twice(8)], 1000, noisy=True, limit=8 * GIB)
    assert plan.method == DENSITY_MATRIX
    assert plan.qubits == 8


def test_ideal_runs_never_use_a_density_matrix() -> None:
    assert plan_simulation([ghz_twice(8)], 1000, noisy=False, limit=8 * GIB).method == STATEVECTOR


def test_few_shots_on_a_small_circuit_use_a_statevector() -> None:
    # 2^10 amplitudes per shot against 4^10 once: 10 shots are cheaper as trajectories.
    assert plan_simulation([ghz_twice(10)], 10, noisy=True, limit=8 * GIB).method == STATEVECTOR


def test_a_wide_chain_uses_a_matrix_product_state() -> None:
    circuit = ghz_twice(24)
    assert bond_exponent(circuit) == 2  # two cx across every cut of the chain
    plan = plan_simulation([circuit], 1000, noisy=True, limit=8 * GIB)
    assert (plan.method, plan.qubits) == (MATRIX_PRODUCT_STATE, 24)


def test_a_noiseless_chain_uses_a_statevector_until_it_is_too_wide() -> None:
    # Without noise one statevector evolution serves every shot: MPS only pays off when the
    # state gets big.
    assert plan_simulation([ghz_twice(20)], 100_000, noisy=False, limit=8 * GIB).method == (
        STATEVECTOR
    )
    plan = plan_simulation([ghz_twice(28)], 1000, noisy=False, limit=8 * GIB)
    assert plan.method == MATRIX_PRODUCT_STATE


def test_a_dense_wide_circuit_uses_a_statevector() -> None:
    circuit = dense(16, 3)
    assert bond_exponent(circuit) == 8  # the bound saturates at half the qubits
    assert plan_simulation([circuit], 1000, noisy=True, limit=8 * GIB).method == STATEVECTOR


def test_a_run_that_cannot_fit_is_refused_naming_the_widths() -> None:
    with pytest.raises(ExecutionError) as caught:
        plan_simulation([dense(30, 2)], 100, noisy=False, limit=GIB)
    error = caught.value
    assert error.reason_code == 1517
    # 2^30 amplitudes of 16 bytes; half of 1 GiB holds 2^25 amplitudes.
    assert "30 qubits" in error.message
    assert str(16 << 30) in error.message
    assert "at most 25 qubits" in error.message


# ----------------------------------------------------------------------------- through the program
def test_a_dense_40_qubit_job_on_gannet_is_refused_before_it_runs(
    gannet: Device, monkeypatch: pytest.MonkeyPatch
) -> None:
    target = device_target(gannet)
    coupling = [e for e in target.build_coupling_map().get_edges() if max(e) < 40 and e[0] < e[1]]
    circuit = QuantumCircuit(gannet.num_qubits, 40)
    for _ in range(12):
        for q in range(40):
            circuit.sx(q)
            circuit.rz(0.3, q)
        for a, b in coupling:
            circuit.cz(a, b)
    circuit.measure(range(40), range(40))

    def no_simulation(*args: object, **kwargs: object) -> None:
        raise AssertionError("a simulation was attempted")

    monkeypatch.setattr(simulate, "AerSimulator", no_simulation)
    with pytest.raises(ExecutionError) as caught:
        run_sampler(gannet, [circuit], options={"default_shots": 10})
    assert caught.value.reason_code == 1517
    assert "40 qubits" in caught.value.message
    assert str(16 << 40) in caught.value.message  # bytes of a 40-qubit statevector
    assert "at most" in caught.value.message


def test_a_20_qubit_non_clifford_job_on_gannet_completes_and_names_its_method(
    gannet: Device,
) -> None:
    line = QuantumCircuit(20)
    for q in range(20):
        line.rx(0.2, q)
    for q in range(19):
        line.cz(q, q + 1)  # diagonal: leaves the Z-basis statistics of the rx layer
    line.measure_all()
    isa = transpile(line, target=device_target(gannet), optimization_level=1, seed_transpiler=1)
    shots = 400
    params = {"pubs": [[isa, None, shots]], "options": {}, "version": 2}
    report = run_program("sampler", gannet, params, seed=11)
    pub = report.result[0]
    counts = pub.data.meas.get_counts()
    assert sum(counts.values()) == shots
    # Ideal P(all zero) = cos(0.1)^40 = 0.819; calibrated gate and readout noise (~20 qubits
    # x ~1-2 % each) lowers it to ~0.6-0.75. Binomial sd at 400 shots is 0.024, so 0.45..0.9
    # holds far beyond 5 sd on both sides.
    zeros = counts.get("0" * 20, 0) / shots
    assert 0.45 < zeros < 0.9, zeros
    simulation = pub.metadata["simulation"]
    assert simulation["method"] == MATRIX_PRODUCT_STATE
    assert simulation["engine"] == "qiskit-aer"
    assert simulation["qubits"] == 20
    assert "calibration" in simulation["noise"]
