"""Running Sampler and Estimator pubs on the simulated devices: physics, shapes, errors, wire.

Devices are the small ones (5 and 7 qubits) and the ideal simulator. Results must read like the
IBM service's: the official client's decoder takes them as they are.
"""

from __future__ import annotations

import json
import math
import pickle
from typing import Any

import numpy as np
import pytest
from qiskit import ClassicalRegister, QuantumCircuit, QuantumRegister
from qiskit.circuit import Parameter
from qiskit.primitives import PrimitiveResult
from qiskit.primitives.containers.estimator_pub import EstimatorPub
from qiskit.primitives.containers.sampler_pub import SamplerPub
from qiskit.quantum_info import SparsePauliOp
from qiskit.transpiler import generate_preset_pass_manager

from jupyter_qrt.local.devices import IDEAL_SIMULATOR_NAME, Device, builtin_catalog
from jupyter_qrt.local.execution import (
    DEFAULT_SHOTS,
    JOB_OVERHEAD_SECONDS,
    ExecutionError,
    execute_estimator,
    execute_sampler,
    run_estimator,
    run_program,
    run_sampler,
)
from jupyter_qrt.local.execution.inputs import device_target
from jupyter_qrt.runtime.wire.encoding import dumps
from jupyter_qrt.runtime.wire.result_types import DoubleSliceSpan

NO_PARAMETERS = np.array([], dtype=float)  # the wire form of "no parameter values"


@pytest.fixture(scope="module")
def ideal() -> Device:
    return builtin_catalog().get(IDEAL_SIMULATOR_NAME)


@pytest.fixture(scope="module")
def wren() -> Device:
    return builtin_catalog().get("qrt_wren")


@pytest.fixture(scope="module")
def robin() -> Device:
    return builtin_catalog().get("qrt_robin")


def bell(measure: bool = True) -> QuantumCircuit:
    circuit = QuantumCircuit(2)
    circuit.h(0)
    circuit.cx(0, 1)
    if measure:
        circuit.measure_all()
    return circuit


def isa(circuit: QuantumCircuit, device: Device) -> QuantumCircuit:
    manager = generate_preset_pass_manager(
        target=device_target(device), optimization_level=1, seed_transpiler=11
    )
    return manager.run(circuit)


def layout_observable(label_or_op: Any, circuit: QuantumCircuit) -> dict[str, float]:
    """An observable over the virtual qubits, mapped onto an ISA circuit, as a wire dict."""
    operator = SparsePauliOp(label_or_op).apply_layout(circuit.layout)
    return {label: float(coeff.real) for label, coeff in operator.to_list()}


# ----------------------------------------------------------------------------- physics
def test_bell_pair_on_the_ideal_simulator_gives_only_00_and_11_balanced(ideal: Device) -> None:
    shots = 4096
    result = run_sampler(ideal, [[bell(), NO_PARAMETERS, shots]], seed=5)
    counts = result[0].data.meas.get_counts()
    assert set(counts) <= {"00", "11"}
    assert sum(counts.values()) == shots
    sigma = math.sqrt(shots) / 2
    assert abs(counts.get("00", 0) - shots / 2) < 4 * sigma


def test_bell_pair_on_a_noisy_device_shows_a_few_errors(wren: Device) -> None:
    result = run_sampler(wren, [[isa(bell(), wren), NO_PARAMETERS, 4000]], seed=5)
    counts = result[0].data.meas.get_counts()
    wrong = counts.get("01", 0) + counts.get("10", 0)
    assert 0 < wrong < 0.15 * 4000
    assert counts["00"] > 1500
    assert counts["11"] > 1500


def test_noisy_results_repeat_with_a_seed_and_vary_without(wren: Device) -> None:
    pub = [isa(bell(), wren), NO_PARAMETERS, 2000]
    first = run_sampler(wren, [pub], seed=3)[0].data.meas
    again = run_sampler(wren, [pub], seed=3)[0].data.meas
    assert first == again
    options = {"simulator": {"seed_simulator": 3}}
    assert run_sampler(wren, [pub], options=options, seed=99)[0].data.meas == first


def test_readout_errors_follow_the_calibration(robin: Device) -> None:
    assert robin.properties is not None
    qubit = 2
    wanted = {e["name"]: e["value"] for e in robin.properties["qubits"][qubit]}
    circuit = QuantumCircuit(7, 1)
    circuit.x(qubit)
    circuit.measure(qubit, 0)
    shots = 20000
    bits = run_sampler(robin, [[circuit, NO_PARAMETERS, shots]], seed=8)[0].data.c
    read_zero = bits.get_counts().get("0", 0) / shots
    # P(read 0 | prepared 1) is the readout error plus a little decay during the x gate.
    sigma = math.sqrt(wanted["prob_meas0_prep1"] / shots)
    assert read_zero == pytest.approx(wanted["prob_meas0_prep1"], abs=4 * sigma + 0.003)


def test_estimator_zz_of_a_bell_pair_is_exactly_one_on_the_ideal_simulator(
    ideal: Device,
) -> None:
    observables = [{"ZZ": 1.0}, {"XX": 1.0}, {"YY": 1.0}, {"ZI": 1.0}, {"II": 0.5, "ZZ": 0.5}]
    result = run_estimator(ideal, [[bell(False), observables, NO_PARAMETERS, None]])
    data = result[0].data
    np.testing.assert_allclose(data.evs, [1.0, 1.0, -1.0, 0.0, 1.0], atol=1e-12)
    np.testing.assert_array_equal(data.stds, np.zeros(5))


def test_estimator_on_a_noisy_device_samples_with_shots_from_the_precision(wren: Device) -> None:
    circuit = isa(bell(False), wren)
    observables = [layout_observable(p, circuit) for p in ["ZZ", "XX", "YY"]]
    precision = 0.02
    result = run_estimator(wren, [[circuit, observables, NO_PARAMETERS, precision]], seed=4)
    data = result[0].data
    assert 0.75 < data.evs[0] < 1.0
    assert 0.75 < data.evs[1] < 1.0
    assert -1.0 < data.evs[2] < -0.75
    assert np.all(data.stds > 0)
    assert np.all(data.stds < 2 * precision)
    np.testing.assert_array_equal(data.ensemble_standard_error, data.stds)
    metadata = result[0].metadata
    # ceil(1 / precision**2) = 2500 shots; the Estimator's default resilience level 1 twirls
    # measurements, so IBM runs 32 randomizations of max(64, ceil(2500 / 32)) = 79 shots.
    assert math.ceil(1 / precision**2) == 2500
    assert metadata["shots"] == 32 * 79
    assert metadata["num_randomizations"] == 32
    assert metadata["target_precision"] == precision
    assert set(metadata) == {
        "shots",
        "target_precision",
        "circuit_metadata",
        "resilience",
        "num_randomizations",
        "simulation",  # the shared convention: how the pub was simulated
    }
    assert metadata["simulation"]["engine"] == "stim"  # a Bell pair is a Clifford circuit
    assert set(result.metadata) == {"dynamical_decoupling", "twirling", "resilience", "version"}


# ----------------------------------------------------------------------------- shapes
def test_sampler_parameter_sweep_has_the_shape_of_the_parameter_values(ideal: Device) -> None:
    theta = Parameter("theta")
    circuit = QuantumCircuit(1)
    circuit.ry(theta, 0)
    circuit.measure_all()
    values = np.array([[[0.0], [math.pi]], [[math.pi], [0.0]], [[0.0], [0.0]]])  # (3, 2, 1)
    result = run_sampler(ideal, [[circuit, values, 100]], seed=1)
    meas = result[0].data.meas
    assert meas.shape == (3, 2)
    assert meas.num_shots == 100
    assert meas.num_bits == 1
    assert meas.get_counts((0, 0)) == {"0": 100}
    assert meas.get_counts((0, 1)) == {"1": 100}
    assert meas.get_counts((1, 0)) == {"1": 100}
    span = result.metadata["execution"]["execution_spans"][0]
    assert span.data_slices[0] == ((3, 2, 100), slice(0, 6), slice(0, 100))
    assert span.mask(0).shape == (3, 2, 100)
    assert span.size == 600


def test_estimator_broadcasts_observables_against_parameters(ideal: Device) -> None:
    theta = Parameter("theta")
    circuit = QuantumCircuit(1)
    circuit.ry(theta, 0)
    angles = np.linspace(0, math.pi, 4).reshape(4, 1)
    observables = [[{"Z": 1.0}], [{"X": 1.0}]]  # shape (2, 1) against parameters (4,)
    result = run_estimator(ideal, [[circuit, observables, angles, None]])
    evs = result[0].data.evs
    assert evs.shape == (2, 4) == result[0].data.stds.shape
    np.testing.assert_allclose(evs[0], np.cos(angles[:, 0]), atol=1e-12)
    np.testing.assert_allclose(evs[1], np.sin(angles[:, 0]), atol=1e-12)


def test_noisy_estimator_sweep_has_the_broadcast_shape(wren: Device) -> None:
    theta = Parameter("theta")
    virtual = QuantumCircuit(2)
    virtual.ry(theta, 0)
    virtual.cx(0, 1)
    circuit = isa(virtual, wren)
    observables = [layout_observable("ZZ", circuit), layout_observable("ZI", circuit)]
    angles = np.array([[0.0], [math.pi]])
    result = run_estimator(wren, [[circuit, [[o] for o in observables], angles, 0.05]], seed=2)
    evs = result[0].data.evs
    assert evs.shape == (2, 2)
    assert evs[0, 0] > 0.8
    assert evs[0, 1] > 0.8
    assert evs[1, 0] > 0.8
    assert evs[1, 1] < -0.8


def test_sampler_and_estimator_take_qiskit_pub_objects(ideal: Device) -> None:
    pub = SamplerPub.coerce((bell(), None, 50))
    assert run_sampler(ideal, [pub, bell()], default_shots=20)[1].data.meas.num_shots == 20
    assert run_sampler(ideal, [pub])[0].data.meas.num_shots == 50
    result = run_estimator(ideal, [(bell(False), SparsePauliOp("ZZ"))])
    assert float(result[0].data.evs) == pytest.approx(1.0)


def test_multiple_classical_registers_give_one_bit_array_each(robin: Device) -> None:
    quantum = QuantumRegister(7, "q")
    alpha = ClassicalRegister(1, "alpha")
    beta = ClassicalRegister(2, "beta")
    circuit = QuantumCircuit(quantum, alpha, beta)
    circuit.x(0)
    circuit.x(2)
    circuit.measure(0, beta[1])
    circuit.measure(1, alpha[0])
    circuit.measure(2, beta[0])
    result = run_sampler(robin, [[circuit, NO_PARAMETERS, 1000]], seed=6)
    data = result[0].data
    assert set(data) == {"alpha", "beta"}
    assert (data.alpha.num_bits, data.beta.num_bits) == (1, 2)
    assert max(data.beta.get_counts(), key=data.beta.get_counts().get) == "11"
    assert max(data.alpha.get_counts(), key=data.alpha.get_counts().get) == "0"


def test_control_flow_runs(ideal: Device, wren: Device) -> None:
    circuit = QuantumCircuit(2, 2)
    circuit.h(0)
    circuit.measure(0, 0)
    with circuit.if_test((circuit.clbits[0], 1)):
        circuit.x(1)
    circuit.measure(1, 1)
    counts = run_sampler(ideal, [circuit], seed=2)[0].data.c.get_counts()
    assert set(counts) == {"00", "11"}
    noisy = run_sampler(wren, [[isa(circuit, wren), None, 2000]], seed=2)[0].data.c.get_counts()
    assert noisy["00"] + noisy["11"] > 1800


def test_the_ideal_simulator_decomposes_gates_it_does_not_run(ideal: Device) -> None:
    inner = QuantumCircuit(2, name="entangle")
    inner.h(0)
    inner.cx(0, 1)
    circuit = QuantumCircuit(3)
    circuit.append(inner.to_gate(), [0, 1])
    circuit.mcx([0, 1], 2)
    circuit.measure_all()
    counts = run_sampler(ideal, [circuit], seed=1)[0].data.meas.get_counts()
    assert set(counts) <= {"000", "111"}
    assert len(counts) == 2


# ----------------------------------------------------------------------------- bad input
def failure(call: Any) -> ExecutionError:
    with pytest.raises(ExecutionError) as caught:
        call()
    assert caught.value.reason_code == 1517
    assert str(caught.value) == caught.value.message
    return caught.value


def test_a_circuit_wider_than_the_device_fails_clearly(wren: Device) -> None:
    wide = QuantumCircuit(7)
    wide.measure_all()
    error = failure(lambda: run_sampler(wren, [wide]))
    assert "7 qubits" in error.message
    assert "qrt_wren" in error.message
    assert "5" in error.message


def test_a_non_isa_circuit_fails_naming_the_instruction(wren: Device) -> None:
    error = failure(lambda: run_sampler(wren, [bell()]))
    assert "'h'" in error.message
    assert "qrt_wren" in error.message
    assert "generate_preset_pass_manager" in error.message


def test_a_two_qubit_gate_on_uncoupled_qubits_fails(wren: Device) -> None:
    circuit = QuantumCircuit(5)
    circuit.ecr(0, 4)  # the T-shape couples 0-1, 1-2, 1-3, 3-4
    circuit.measure_all()
    error = failure(lambda: run_sampler(wren, [circuit]))
    assert "'ecr'" in error.message
    assert "(0, 4)" in error.message


def test_too_many_shots_fail_naming_the_limit(wren: Device) -> None:
    pub = [isa(bell(), wren), NO_PARAMETERS, 200_000]
    assert "100000" in failure(lambda: run_sampler(wren, [pub])).message
    circuit = isa(bell(False), wren)
    tiny = [circuit, layout_observable("ZZ", circuit), NO_PARAMETERS, 0.001]
    assert "precision" in failure(lambda: run_estimator(wren, [tiny])).message


def test_bad_parameter_values_fail_clearly(ideal: Device) -> None:
    a, b = Parameter("a"), Parameter("b")
    circuit = QuantumCircuit(1)
    circuit.rx(a, 0)
    circuit.rz(b, 0)
    circuit.measure_all()
    error = failure(lambda: run_sampler(ideal, [[circuit, np.zeros((4, 3)), None]]))
    assert "(4, 3)" in error.message
    assert "a, b" in error.message
    error = failure(lambda: run_sampler(ideal, [[bell(), np.zeros((2, 1)), None]]))
    assert "no parameters" in error.message
    observables = [{"Z": 1.0}, {"X": 1.0}]  # shape (2,) cannot broadcast with (3,)
    error = failure(lambda: run_estimator(ideal, [[circuit, observables, np.zeros((3, 2))]]))
    assert "broadcast" in error.message


def test_parameter_values_named_for_other_parameters_fail_naming_them(ideal: Device) -> None:
    circuit = QuantumCircuit(1)
    circuit.rx(Parameter("a"), 0)
    unmeasured = circuit.copy()
    circuit.measure_all()
    attempts = [
        lambda: run_sampler(ideal, [[circuit, {"b": [1.0]}, 10]]),
        lambda: run_sampler(ideal, [SamplerPub.coerce((circuit, {"b": [1.0]}, 10))]),
        lambda: run_estimator(ideal, [[unmeasured, {"Z": 1.0}, {"b": [1.0]}]]),
        lambda: run_estimator(ideal, [EstimatorPub.coerce((unmeasured, {"Z": 1.0}, {"b": 1.0}))]),
    ]
    for attempt in attempts:
        error = failure(attempt)
        assert "Pub 0" in error.message
        assert "values for b" in error.message
        assert "no values for a" in error.message
    # Named right, a mapping runs.
    result = run_sampler(ideal, [[circuit, {"a": [0.0, math.pi]}, 10]], seed=1)
    assert result[0].data.meas.get_counts(0) == {"0": 10}
    assert result[0].data.meas.get_counts(1) == {"1": 10}


def test_default_shots_null_means_the_default(ideal: Device) -> None:
    params = {"pubs": [[bell(), None, None]], "options": {"default_shots": None}, "version": 2}
    report = run_program("sampler", ideal, params)
    assert report.result[0].data.meas.num_shots == DEFAULT_SHOTS
    options = {"default_shots": None}
    result = run_sampler(ideal, [bell()], default_shots=20, options=options)
    assert result[0].data.meas.num_shots == 20


def test_default_precision_null_means_the_default(wren: Device) -> None:
    circuit = isa(bell(False), wren)
    observable = SparsePauliOp("ZZ").apply_layout(circuit.layout)
    options = {"default_precision": None}
    result = run_estimator(wren, [(circuit, observable)], default_precision=0.1, options=options)
    assert result[0].metadata["target_precision"] == 0.1


def test_observables_of_the_wrong_width_fail_clearly(wren: Device) -> None:
    circuit = isa(bell(False), wren)
    error = failure(lambda: run_estimator(wren, [[circuit, {"ZZ": 1.0}, NO_PARAMETERS]]))
    assert "2 qubit(s)" in error.message
    assert "5" in error.message
    assert "apply_layout" in error.message


def test_malformed_pubs_and_params_fail_clearly(ideal: Device) -> None:
    assert "QuantumCircuit" in failure(lambda: run_sampler(ideal, [["not a circuit"]])).message
    assert "shots" in failure(lambda: run_sampler(ideal, [[bell(), None, 0]])).message
    assert "no pubs" in failure(lambda: run_program("sampler", ideal, {"pubs": []})).message
    params = {"pubs": [[bell()]], "version": 1}
    assert "version 2" in failure(lambda: run_program("sampler", ideal, params)).message
    assert "'sampler'" in failure(lambda: run_program("qasm3-runner", ideal, params)).message
    options = {"execution": {"meas_type": "kerneled"}}
    assert "classified" in failure(lambda: run_sampler(ideal, [bell()], options=options)).message


def test_a_circuit_too_big_to_simulate_fails_clearly(ideal: Device) -> None:
    circuit = QuantumCircuit(32)
    for qubit in range(32):
        circuit.rx(0.1 * (qubit + 1), qubit)  # not Clifford
    for qubit in range(32):
        for other in range(qubit + 1, 32):
            circuit.cz(qubit, other)  # entangles across every cut: no matrix product state
    circuit.measure_all()
    error = failure(lambda: run_sampler(ideal, [circuit]))
    assert error.reason_code == 1517
    assert "32 qubits" in error.message
    assert "active qubits" in error.message


def test_execution_errors_cross_process_boundaries() -> None:
    error = pickle.loads(pickle.dumps(ExecutionError("too wide", 1517)))
    assert (error.message, error.reason_code, str(error)) == ("too wide", 1517, "too wide")


# ----------------------------------------------------------------------------- the job
def test_run_program_runs_the_decoded_wire_params(wren: Device) -> None:
    circuit = isa(bell(), wren)
    params = {
        "pubs": [[circuit, NO_PARAMETERS, None]],
        "options": {"default_shots": 1234, "simulator": {"seed_simulator": 42}},
        "version": 2,
        "support_qiskit": True,
    }
    report = run_program("sampler", wren, params)
    again = run_program("sampler", wren, params)
    assert report.result[0].data.meas.num_shots == 1234
    assert report.result[0].data.meas == again.result[0].data.meas
    assert report.started <= report.finished
    assert any("qrt_wren" in line for line in report.logs)
    estimator = {
        "pubs": [[isa(bell(False), wren), layout_observable("ZZ", isa(bell(False), wren)), None]],
        "options": {"twirling": {"enable_gates": True}},
        "resilience_level": 1,
        "version": 2,
    }
    report = run_program("estimator", wren, estimator, seed=1)
    assert report.result[0].data.evs.shape == ()
    assert any("Twirling gates and measurements" in line for line in report.logs)
    assert not any("twirling" in line and "not simulated" in line for line in report.logs)


def test_quantum_seconds_follow_the_device_model(wren: Device, ideal: Device) -> None:
    circuit = isa(bell(), wren)
    small = execute_sampler(wren, [[circuit, NO_PARAMETERS, 1000]], seed=1).quantum_seconds
    large = execute_sampler(wren, [[circuit, NO_PARAMETERS, 3000]], seed=1).quantum_seconds
    rep_delay = wren.configuration["default_rep_delay"] * 1e-6
    assert small > JOB_OVERHEAD_SECONDS + 1000 * rep_delay
    assert large - JOB_OVERHEAD_SECONDS == pytest.approx(3 * (small - JOB_OVERHEAD_SECONDS))
    assert execute_sampler(ideal, [bell()]).quantum_seconds < JOB_OVERHEAD_SECONDS
    estimate = execute_estimator(
        wren, [[isa(bell(False), wren), layout_observable("ZZ", isa(bell(False), wren))]]
    )
    assert estimate.quantum_seconds > JOB_OVERHEAD_SECONDS + DEFAULT_SHOTS * rep_delay


# ----------------------------------------------------------------------------- the wire
def official_spans(result: PrimitiveResult) -> PrimitiveResult:
    """The result with its spans as the official client's classes (its encoder needs those)."""
    from qiskit_ibm_runtime.execution_span import DoubleSliceSpan as Official
    from qiskit_ibm_runtime.execution_span import ExecutionSpans as OfficialSpans

    ours = result.metadata["execution"]["execution_spans"]
    spans = OfficialSpans(Official(s.start, s.stop, s.data_slices) for s in ours)
    metadata = {**result.metadata, "execution": {"execution_spans": spans}}
    return PrimitiveResult(list(result), metadata=metadata)


def test_results_survive_the_official_encoder_and_decoder(ideal: Device, wren: Device) -> None:
    from qiskit_ibm_runtime import RuntimeDecoder, RuntimeEncoder

    theta = Parameter("theta")
    circuit = QuantumCircuit(2)
    circuit.ry(theta, 0)
    circuit.cx(0, 1)
    circuit.measure_all()
    extra = ClassicalRegister(1, "flag")
    circuit.add_register(extra)
    circuit.measure(0, extra[0])
    pubs = [[circuit, np.array([[0.3], [1.2], [2.0]]), 300], [bell(), NO_PARAMETERS, None]]
    result = run_sampler(ideal, pubs, seed=9)
    for text in (json.dumps(official_spans(result), cls=RuntimeEncoder), dumps(result)):
        decoded = json.loads(text, cls=RuntimeDecoder)
        for mine, theirs in zip(result, decoded, strict=True):
            for name in ("meas", "flag"):
                if name in mine.data:
                    assert theirs.data[name].get_counts() == mine.data[name].get_counts()
        spans = decoded.metadata["execution"]["execution_spans"]
        assert spans[0].mask(0).shape == (3, 300)
        assert decoded.metadata["version"] == 2
        repr(decoded)  # an ill-shaped span breaks the client's repr

    circuit = isa(bell(False), wren)
    observables = [layout_observable("ZZ", circuit), layout_observable("XX", circuit)]
    estimate = run_estimator(wren, [[circuit, observables, None, 0.05]], seed=3)
    decoded = json.loads(json.dumps(estimate, cls=RuntimeEncoder), cls=RuntimeDecoder)
    np.testing.assert_array_equal(decoded[0].data.evs, estimate[0].data.evs)
    np.testing.assert_array_equal(decoded[0].data.stds, estimate[0].data.stds)
    decoded = json.loads(dumps(estimate), cls=RuntimeDecoder)
    assert decoded[0].metadata["shots"] == 7 * 64  # 400 shots, twirled: 7 randomizations of 64


def test_sampler_spans_cover_every_pub(ideal: Device) -> None:
    result = run_sampler(ideal, [[bell(), None, 10], [bell(), None, 20], [bell(), None, 10]])
    spans = result.metadata["execution"]["execution_spans"]
    assert all(isinstance(span, DoubleSliceSpan) for span in spans)
    assert spans.pub_idxs == [0, 1, 2]
    assert sorted(span.size for span in spans) == [20, 20]
