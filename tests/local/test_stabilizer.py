"""Clifford circuits on stim: conversion, the Pauli form of the noise, agreement with the exact
density matrix on small circuits, and physics at device width (GHZ-127, GHZ-156 end to end).

Statistical bounds, all with fixed seeds (so each test is repeatable; the bounds say how
unlikely a failure would be with other seeds):

- Distributions: ``TVD(samples, p) <= E + sqrt(ln(1/delta) / 2N)`` with
  ``E = 1/2 sum_k sqrt(p_k (1 - p_k) / N)`` and ``delta = 1e-6`` (McDiarmid: one shot moves the
  TVD by at most ``1/N``), plus, against the full (non-Pauli) noise model, the known bias of the
  Pauli form of relaxation, ``sum gamma/2`` over gates and qubits (:func:`relaxation_bias`).
- Means of per-shot values in ``[-1, 1]``: Hoeffding, ``|mean - E| <= sqrt(2 ln(2/delta) / N)``.
"""

from __future__ import annotations

import dataclasses
import math

import numpy as np
import pytest
import stim
from qiskit import QuantumCircuit
from qiskit.circuit import Parameter
from qiskit.quantum_info import Kraus, Operator, Pauli

from jupyter_qrt.local.devices import Device, builtin_catalog
from jupyter_qrt.local.execution import execute_sampler
from jupyter_qrt.local.execution.noise import noise_model_for
from jupyter_qrt.local.execution.pauli_noise import (
    pauli_labels,
    pauli_noise_for,
    pauli_noise_model_for,
)
from jupyter_qrt.local.execution.simulate import active_qubits
from jupyter_qrt.local.execution.stabilizer import stim_circuit

from .clifford_helpers import (
    exact_probabilities,
    ghz_edges,
    ghz_isa,
    histogram,
    measured,
    mirror_isa,
    pauli_expectation,
    random_clifford_isa,
    readout_pairs,
    relaxation_bias,
    tvd_bound,
)

DELTA = 1e-6


def hoeffding(shots: int) -> float:
    """Half-width for the mean of ``shots`` values in [-1, 1], failing w.p. ``DELTA``."""
    return math.sqrt(2 * math.log(2 / DELTA) / shots)


@pytest.fixture(scope="module")
def catalog() -> dict[str, Device]:
    built = builtin_catalog()
    return {name: built.get(name) for name in ("qrt_robin", "qrt_pelican", "qrt_gannet")}


# ----------------------------------------------------------------------------- conversion
@pytest.mark.parametrize(
    ("name", "num_qubits", "angles"),
    [
        *[(g, 1, [None]) for g in ("id", "x", "y", "z", "h", "s", "sdg", "sx", "sxdg")],
        *[(g, 2, [None]) for g in ("cx", "cz", "cy", "swap", "ecr")],
        *[(g, 1, [k * math.pi / 2 for k in range(-4, 5)]) for g in ("rz", "rx", "ry")],
        ("rzz", 2, [k * math.pi / 2 for k in range(-4, 5)]),
    ],
)
def test_every_clifford_gate_becomes_the_same_tableau_in_stim(
    name: str, num_qubits: int, angles: list[float | None]
) -> None:
    for angle in angles:
        for qubits in ([0, 1], [1, 0])[:num_qubits]:
            circuit = QuantumCircuit(2)
            gate = getattr(circuit, name)
            gate(*([] if angle is None else [angle]), *qubits[:num_qubits])
            program = stim_circuit(circuit, None)
            assert program is not None, (name, angle)
            expected = stim.Tableau.from_unitary_matrix(Operator(circuit).data, endian="little")
            got = program.circuit.to_tableau() if len(program.circuit) else stim.Tableau(2)
            if len(got) < 2:
                got = got + stim.Tableau(2 - len(got))
            assert got == expected, (name, angle, qubits)


def test_non_clifford_circuits_are_left_to_qiskit_aer(catalog: dict[str, Device]) -> None:
    robin = catalog["qrt_robin"]
    circuit = QuantumCircuit(robin.num_qubits)
    circuit.sx(0)
    circuit.rz(0.3, 0)  # not a multiple of pi/2
    assert stim_circuit(circuit, None) is None
    circuit.measure_all()
    clifford = QuantumCircuit(robin.num_qubits, 1)
    clifford.sx(0)
    clifford.rz(math.pi / 2 + 1e-12, 0)  # within the tolerance
    clifford.measure(0, 0)  # one qubit simulated of the device's 7
    result = execute_sampler(robin, [circuit, clifford], options={"default_shots": 200}, seed=3)
    assert "simulation" not in result.result[0].metadata or (
        result.result[0].metadata["simulation"]["engine"] != "stim"
    )
    assert result.result[1].metadata["simulation"] == {
        "method": "stabilizer",
        "engine": "stim",
        "noise": result.result[1].metadata["simulation"]["noise"],
        "qubits": 1,
    }
    assert "readout" in result.result[1].metadata["simulation"]["noise"]


def test_mid_circuit_measurement_and_reset_run_on_stim(catalog: dict[str, Device]) -> None:
    robin = catalog["qrt_robin"]
    circuit = QuantumCircuit(robin.num_qubits, 3)
    circuit.x(0)
    circuit.measure(0, 0)
    circuit.reset(0)
    circuit.barrier()
    circuit.delay(100, 0)
    circuit.measure(0, 1)
    circuit.measure(1, 2)
    result = execute_sampler(robin, [[circuit, None, 4000]], seed=2).result[0]
    assert result.metadata["simulation"]["engine"] == "stim"
    bits = result.data.c.to_bool_array()[:, ::-1]  # column j: clbit j
    # Readout errors are a few percent; 0.9 / 0.1 leave a wide margin at 4000 shots.
    assert bits[:, 0].mean() > 0.9
    assert bits[:, 1].mean() < 0.1
    assert bits[:, 2].mean() < 0.1


# ----------------------------------------------------------------------------- the noise
def test_pauli_form_is_the_exact_twirl_of_the_aer_gate_error(catalog: dict[str, Device]) -> None:
    """Twirling keeps p_P = sum_K |Tr(P K) / d|^2 of the Kraus channel of execution/noise.py."""
    device = catalog["qrt_pelican"]
    full = noise_model_for(device)
    assert full is not None
    pauli = pauli_noise_for(device)
    assert pauli is not None
    checked = 0
    for (name, on), noise in list(pauli.gates.items())[::97]:
        kraus = Kraus(full._local_quantum_errors[name][on].to_quantumchannel()).data
        d = 2 ** len(on)
        twirl = [
            sum(abs(np.trace(Pauli(label).to_matrix() @ k) / d) ** 2 for k in kraus)
            for label in pauli_labels(len(on))
        ]
        np.testing.assert_allclose(noise.probabilities(), twirl, atol=1e-12)
        checked += 1
    assert checked >= 5


def _cases(catalog: dict[str, Device], case: str) -> tuple[Device, QuantumCircuit, list[int]]:
    if case == "ghz-robin":
        device = catalog["qrt_robin"]
        return device, ghz_isa(device, 7, measure=False), [0, *(c for _, c in ghz_edges(device, 7))]
    if case == "ghz-pelican":
        device = catalog["qrt_pelican"]
        return device, ghz_isa(device, 8, measure=False), [0, *(c for _, c in ghz_edges(device, 8))]
    if case == "random-pelican":
        device = catalog["qrt_pelican"]
        return (device, *random_clifford_isa(device, 8, layers=8, seed=3))
    device = catalog["qrt_gannet"]
    _, qubits = random_clifford_isa(device, 8, layers=1, seed=5)
    return device, mirror_isa(device, 8, layers=5, seed=5), qubits


@pytest.mark.parametrize("case", ["ghz-robin", "ghz-pelican", "random-pelican", "mirror-gannet"])
def test_stim_outcomes_agree_with_the_density_matrix(catalog: dict[str, Device], case: str) -> None:
    device, circuit, qubits = _cases(catalog, case)
    shots = 100_000
    result = execute_sampler(device, [[measured(circuit, qubits), None, shots]], seed=11)
    assert result.result[0].metadata["simulation"]["engine"] == "stim"
    sampled = histogram(result.result[0].data.meas.to_bool_array()[:, ::-1])
    used = active_qubits([circuit])
    readout = [readout_pairs(device)[q] for q in qubits]
    # The Pauli form itself, exactly (Aer density matrix): stim must sample it exactly.
    twirled = pauli_noise_model_for(device, used, gates=True, measure=False)
    pauli = exact_probabilities(circuit, qubits, twirled, readout)
    assert 0.5 * np.abs(sampled - pauli).sum() <= tvd_bound(pauli, shots, DELTA)
    # The full model of execution/noise.py: the Pauli form's bias is added to the bound.
    full = exact_probabilities(circuit, qubits, noise_model_for(device, used), readout)
    bias = relaxation_bias(circuit, device)
    assert 0.5 * np.abs(sampled - full).sum() <= tvd_bound(full, shots, DELTA) + bias
    assert 0.5 * np.abs(pauli - full).sum() <= bias


def test_parametric_clifford_sweep_runs_on_stim_and_follows_the_seed(
    catalog: dict[str, Device],
) -> None:
    device = catalog["qrt_pelican"]
    theta = Parameter("theta")
    circuit = QuantumCircuit(device.num_qubits)
    circuit.sx(0)
    circuit.rz(theta, 0)
    circuit.sx(0)
    circuit.measure_all()
    values = np.array([[0.0], [math.pi / 2], [math.pi]])  # |1>, |+i>-ish, |0> after sx rz sx
    pub = [circuit, values, 2000]
    first = execute_sampler(device, [pub], seed=5).result[0]
    again = execute_sampler(device, [pub], seed=5).result[0]
    assert first.metadata["simulation"]["engine"] == "stim"
    assert first.data.meas == again.data.meas
    ones = first.data.meas.to_bool_array()[..., -1].mean(axis=-1)
    assert ones.shape == (3,)
    assert ones[0] > 0.9
    assert 0.4 < ones[1] < 0.6
    assert ones[2] < 0.1


# ----------------------------------------------------------------------------- physics at width
def _expected_correlators(device: Device, circuit: QuantumCircuit, qubits: list[int]) -> float:
    """Mean over j of <Z_root Z_j> as recorded: gate noise exactly, then asymmetric readout.

    Before readout, <Z_root> and <Z_j> of a GHZ state vanish under Pauli noise, so with
    ``P(1|0) = a``, ``P(0|1) = b`` the recorded correlator is
    ``(b0 - a0)(bj - aj) + (1 - a0 - b0)(1 - aj - bj) <Z_root Z_j>``.
    """
    noise = pauli_noise_for(device)
    assert noise is not None
    silent = dataclasses.replace(
        noise,
        readout=(0.0,) * len(noise.readout),
        readout_pairs=((0.0, 0.0),) * len(noise.readout),
    )
    program = stim_circuit(circuit.remove_final_measurements(inplace=False), silent)
    assert program is not None
    pairs = readout_pairs(device)
    a0, b0 = pairs[qubits[0]]
    total = 0.0
    for qubit in qubits[1:]:
        before = pauli_expectation(program.circuit, [qubits[0], qubit], device.num_qubits)
        aj, bj = pairs[qubit]
        total += (b0 - a0) * (bj - aj) + (1 - a0 - b0) * (1 - aj - bj) * before
    return total / (len(qubits) - 1)


def _check_ghz(bits: np.ndarray, expected: float) -> None:
    """Most shots near all-0/all-1; the mean root correlator within Hoeffding's bound."""
    shots, n = bits.shape
    weight = bits.sum(axis=1)
    assert np.mean((weight < n / 4) | (weight > 3 * n / 4)) > 0.8
    signs = 1 - 2 * bits.astype(np.int8)
    per_shot = (signs[:, :1] * signs[:, 1:]).mean(axis=1)  # in [-1, 1]
    assert abs(per_shot.mean() - expected) <= hoeffding(shots)
    assert expected < 1 - 2 * hoeffding(shots), "the noise must be visible to this test"


def test_ghz_127_on_pelican_keeps_its_correlations_as_the_calibration_predicts(
    catalog: dict[str, Device],
) -> None:
    device = catalog["qrt_pelican"]
    circuit = ghz_isa(device, 127)
    qubits = [0, *(c for _, c in ghz_edges(device, 127))]
    shots = 100_000
    result = execute_sampler(device, [[circuit, None, shots]], seed=21).result[0]
    assert result.metadata["simulation"]["qubits"] == 127
    bits = result.data.meas.to_bool_array()[:, ::-1]  # column j: register bit j
    _check_ghz(bits, _expected_correlators(device, circuit, qubits))


def test_ghz_156_on_gannet_through_the_service(catalog: dict[str, Device]) -> None:
    from jupyter_qrt.local.server import LocalService
    from jupyter_qrt.runtime import RuntimeService, Sampler

    device = catalog["qrt_gannet"]
    circuit = ghz_isa(device, 156)
    qubits = [0, *(c for _, c in ghz_edges(device, 156))]
    with LocalService(workers=1) as local:
        backend = RuntimeService(local.account()).backend("qrt_gannet")
        sampler = Sampler(mode=backend)
        sampler.options.simulator.seed_simulator = 8
        result = sampler.run([circuit], shots=4096).result(timeout=300)[0]
    assert result.metadata["simulation"]["engine"] == "stim"
    assert result.metadata["simulation"]["qubits"] == 156
    bits = result.data.meas.to_bool_array()[:, ::-1]
    assert bits.shape == (4096, 156)
    _check_ghz(bits, _expected_correlators(device, circuit, qubits))


def test_estimator_on_ghz_127_matches_the_applied_noise(catalog: dict[str, Device]) -> None:
    """<Z_parent Z_child> on edges of a noisy GHZ-127: stim samples each basis.

    The default resilience level twirls measurements, so readout multiplies each term by
    ``(1 - 2 p_mean)`` per qubit; gate noise is propagated exactly (:func:`pauli_expectation`).
    Per-shot values lie in [-1, 1]: Hoeffding with N shots bounds each ev.
    """
    from jupyter_qrt.local.execution import execute_estimator

    device = catalog["qrt_pelican"]
    circuit = ghz_isa(device, 127, measure=False)
    edges = ghz_edges(device, 127)[::25]
    n = device.num_qubits
    labels = []
    for parent, child in edges:
        letters = ["I"] * n
        letters[n - 1 - parent] = letters[n - 1 - child] = "Z"
        labels.append("".join(letters))
    precision = 0.02
    report = execute_estimator(
        device, [[circuit, [{label: 1.0} for label in labels], None, precision]], seed=5
    )
    result = report.result[0]
    assert result.metadata["simulation"]["engine"] == "stim"
    shots = result.metadata["shots"]
    assert shots >= 1 / precision**2
    noise = pauli_noise_for(device)
    assert noise is not None
    program = stim_circuit(circuit, noise)
    assert program is not None
    for (parent, child), ev, std in zip(edges, result.data.evs, result.data.stds, strict=True):
        before = pauli_expectation(program.circuit, [parent, child], n)
        expected = before * (1 - 2 * noise.readout[parent]) * (1 - 2 * noise.readout[child])
        assert abs(ev - expected) <= hoeffding(shots)
        assert 0 < std < 2 * precision
