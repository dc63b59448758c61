"""The ``executor`` program run in-process: what a quantum program's items return.

Params are built the way qiskit-ibm-runtime 0.51's ``Executor`` builds them (its v2.0 converter,
from a samplomatic ``QuantumProgram``), then run by :func:`execute_executor` on the built-in
devices. Values are checked, not just shapes: on the ideal simulator a sweep's bits follow
``sin^2(theta/2)``, and a twirled Bell pair, once the samplex's measurement flips are undone,
holds only 00 and 11 although the raw bits do not.
"""

from __future__ import annotations

import json
import math
import warnings
from typing import Any

import numpy as np
import pytest
from qiskit import QuantumCircuit
from qiskit.circuit import Parameter
from qiskit.transpiler import generate_preset_pass_manager
from samplomatic.quantum_program import QuantumProgram
from samplomatic.transpiler import generate_boxing_pass_manager

from jupyter_qrt.local.devices import IDEAL_SIMULATOR_NAME, Device, builtin_catalog
from jupyter_qrt.local.execution import ExecutionError, run_program
from jupyter_qrt.local.execution.executor import execute_executor
from jupyter_qrt.local.execution.inputs import device_target

with warnings.catch_warnings():
    warnings.simplefilter("ignore", DeprecationWarning)
    from ibm_quantum_schemas.executor.version_2_0 import QuantumProgramResultModel
    from qiskit_ibm_runtime.options_models.executor import ExecutorOptions
    from qiskit_ibm_runtime.quantum_program import QuantumProgram as OfficialProgram
    from qiskit_ibm_runtime.quantum_program.params_converters import (
        QUANTUM_PROGRAM_PARAMS_CONVERTERS,
    )

SHOTS = 400


@pytest.fixture(scope="module")
def ideal() -> Device:
    return builtin_catalog().get(IDEAL_SIMULATOR_NAME)


@pytest.fixture(scope="module")
def wren() -> Device:
    return builtin_catalog().get("qrt_wren")


def params_of(program: QuantumProgram, **experimental: Any) -> dict[str, Any]:
    """The job params the official Executor sends for ``program`` (as JSON data)."""
    options = ExecutorOptions()
    options.experimental = dict(experimental)
    official = (
        OfficialProgram.from_(program) if not isinstance(program, OfficialProgram) else program
    )
    model = QUANTUM_PROGRAM_PARAMS_CONVERTERS["v2.0"].encoder(official, options)
    return json.loads(model.model_dump_json())


def result_of(report: Any) -> QuantumProgramResultModel:
    """The report's result as the client reads it: through its JSON text."""
    return QuantumProgramResultModel.model_validate_json(report.result_text())


def rotation() -> QuantumCircuit:
    circuit = QuantumCircuit(1, 1)
    circuit.rx(Parameter("theta"), 0)
    circuit.measure(0, 0)
    return circuit


def twirled_bell(device: Device) -> QuantumCircuit:
    """A Bell pair, ISA for ``device``, boxed with gate and measurement twirls."""
    circuit = QuantumCircuit(2)
    circuit.h(0)
    circuit.cx(0, 1)
    circuit.measure_all()
    isa = generate_preset_pass_manager(optimization_level=1, target=device_target(device)).run(
        circuit
    )
    return generate_boxing_pass_manager(enable_gates=True, enable_measures=True).run(isa)


def test_a_circuit_items_sweep_follows_sin_squared(ideal: Device) -> None:
    thetas = np.linspace(0, np.pi, 12).reshape(3, 4, 1)
    program = QuantumProgram(shots=SHOTS)
    program.append_circuit_item(rotation(), circuit_arguments=thetas)
    result = result_of(execute_executor(ideal, params_of(program), seed=11))

    bits = result.data[0].results["c"].to_numpy()
    assert bits.shape == (3, 4, SHOTS, 1)
    ones = bits[..., 0].mean(axis=-1)
    expected = np.sin(thetas[..., 0] / 2) ** 2
    sigma = np.sqrt(expected * (1 - expected) / SHOTS)
    assert np.all(np.abs(ones - expected) <= 5 * sigma + 1e-12), (ones, expected)
    assert ones[0, 0] == 0.0
    assert ones[-1, -1] == 1.0
    [span] = result.metadata.chunk_timing
    assert [(p.idx_item, p.size, tuple(p.element_range)) for p in span.parts] == [
        (0, 12, (0, 12, 1))
    ]


def test_integer_chunk_sizes_split_each_item_into_spans(ideal: Device) -> None:
    program = QuantumProgram(shots=10)
    program.append_circuit_item(rotation(), circuit_arguments=np.zeros((12, 1)), chunk_size=5)
    program.append_circuit_item(rotation(), circuit_arguments=np.full((3, 1), np.pi), chunk_size=5)
    result = result_of(execute_executor(ideal, params_of(program)))

    spans = result.metadata.chunk_timing
    ranges = [[(p.idx_item, tuple(p.element_range)) for p in span.parts] for span in spans]
    assert ranges == [
        [(0, (0, 5, 1))],
        [(0, (5, 10, 1))],
        [(0, (10, 12, 1))],
        [(1, (0, 3, 1))],
    ]
    assert all(span.start <= span.stop for span in spans)
    assert not result.data[0].results["c"].to_numpy().any()
    assert result.data[1].results["c"].to_numpy().all()


def test_passthrough_data_and_semantic_role_come_back_verbatim(ideal: Device) -> None:
    passthrough = {"post_processor": {"version": "v0.1"}, "nested": [1, 2.5, "x", None, True]}
    program = QuantumProgram(shots=5, passthrough_data={**passthrough, "array": np.arange(6.0)})
    program.append_circuit_item(rotation(), circuit_arguments=np.zeros((1,)))
    params = params_of(program)
    params["quantum_program"]["semantic_role"] = "sampler_v2"
    result = result_of(execute_executor(ideal, params))

    assert result.semantic_role == "sampler_v2"
    echoed = json.loads(result.model_dump_json())["passthrough_data"]
    assert echoed == params["quantum_program"]["passthrough_data"]
    assert result.schema_version == "v2.0"


def test_a_twirled_bell_pair_is_really_randomized_and_undoes_to_00_and_11(ideal: Device) -> None:
    template, samplex = _built(twirled_bell(ideal))
    program = QuantumProgram(shots=50)
    program.append_samplex_item(template, samplex=samplex, shape=(16,))
    result = result_of(execute_executor(ideal, params_of(program), seed=5))

    outputs = result.data[0].results
    raw = outputs["meas"].to_numpy()
    flips = outputs["measurement_flips.meas"].to_numpy()
    assert raw.shape == (16, 50, 2)
    assert flips.shape == (16, 1, 2)
    assert "parameter_values" not in outputs
    corrected = raw ^ flips
    assert np.all(corrected[..., 0] == corrected[..., 1]), "after undoing flips: 00 and 11 only"
    assert np.any(raw[..., 0] != raw[..., 1]), "the randomizations flipped measurements"
    assert 0.3 < corrected[..., 0].mean() < 0.7


def test_a_seed_repeats_the_draws_and_the_shots(wren: Device) -> None:
    template, samplex = _built(twirled_bell(wren))
    program = QuantumProgram(shots=30)
    program.append_samplex_item(template, samplex=samplex, shape=(4,))

    def bits(seed: int) -> tuple[np.ndarray, np.ndarray]:
        outputs = result_of(execute_executor(wren, params_of(program, seed_simulator=seed)))
        return (
            outputs.data[0].results["meas"].to_numpy(),
            outputs.data[0].results["measurement_flips.meas"].to_numpy(),
        )

    first, again, other = bits(3), bits(3), bits(4)
    assert np.array_equal(first[0], again[0])
    assert np.array_equal(first[1], again[1])
    assert not (np.array_equal(first[0], other[0]) and np.array_equal(first[1], other[1]))


def test_a_noisy_device_charges_device_time_and_logs_the_engine(wren: Device) -> None:
    template, samplex = _built(twirled_bell(wren))
    program = QuantumProgram(shots=100)
    program.append_samplex_item(template, samplex=samplex, shape=(4,))
    report = run_program("executor", wren, params_of(program))
    assert report.quantum_seconds > 1.0  # the per-job overhead plus 400 shots of device time
    assert any("stim" in line for line in report.logs), report.logs  # twirled Bell is Clifford
    assert report.metrics["shots"] == 400


# -- bad programs: one clear message, nothing runs ------------------------------------------------


def _valid(ideal_program_shots: int = 5) -> dict[str, Any]:
    program = QuantumProgram(shots=ideal_program_shots)
    program.append_circuit_item(rotation(), circuit_arguments=np.zeros((2, 1)))
    return params_of(program)


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (lambda p: p.update(schema_version="v1.1"), "schema_version 'v1.1'"),
        (lambda p: p["quantum_program"]["items"][0].pop("shape"), "items[0].circuit.shape"),
        (
            lambda p: p["quantum_program"].update(shots=0),
            "params.quantum_program.shots: Input should be greater than or equal to 1",
        ),
        (
            lambda p: p["quantum_program"]["items"].append(p["quantum_program"]["items"][0]),
            "one circuit for every program item",
        ),
        (lambda p: p["quantum_program"].update(meas_level="kerneled"), "meas_level 'kerneled'"),
        (
            lambda p: p["quantum_program"]["items"][0].update(
                circuit_arguments={"data": "eJwDAAAAAAE=", "shape": [0], "dtype": "f64"}
            ),
            "circuit_arguments' last axis holds 0 values but the circuit has 1 parameters",
        ),
    ],
)
def test_a_malformed_program_names_what_is_wrong(ideal: Device, change: Any, expected: str) -> None:
    params = _valid()
    change(params)
    with pytest.raises(ExecutionError) as caught:
        execute_executor(ideal, params)
    assert expected in caught.value.message
    assert caught.value.reason_code == 1517


def test_more_shots_than_the_device_allows_are_refused(wren: Device) -> None:
    params = _valid()
    params["quantum_program"]["shots"] = wren.max_shots + 1
    with pytest.raises(ExecutionError) as caught:
        execute_executor(wren, params)
    assert f"allows at most {wren.max_shots}" in caught.value.message


def test_a_non_isa_item_names_the_item(wren: Device) -> None:
    circuit = QuantumCircuit(2, 2)
    circuit.h(0)
    circuit.cx(0, 1)  # qrt_wren's two-qubit gate is not cx
    circuit.measure([0, 1], [0, 1])
    program = QuantumProgram(shots=5)
    program.append_circuit_item(circuit, circuit_arguments=np.zeros((0,)))
    with pytest.raises(ExecutionError) as caught:
        execute_executor(wren, params_of(program))
    assert caught.value.message.startswith("Item 0:"), caught.value.message


def _built(circuit: QuantumCircuit) -> tuple[QuantumCircuit, Any]:
    from samplomatic import build

    template, samplex = build(circuit)
    return template, samplex


def test_bell_counts_of_the_ideal_simulator_are_exact(ideal: Device) -> None:
    bell = QuantumCircuit(2, 2)
    bell.h(0)
    bell.cx(0, 1)
    bell.measure([0, 1], [0, 1])
    program = QuantumProgram(shots=SHOTS)
    program.append_circuit_item(bell, circuit_arguments=np.zeros((0,)))
    bits = result_of(execute_executor(ideal, params_of(program))).data[0].results["c"].to_numpy()
    assert bits.shape == (SHOTS, 2)
    assert np.all(bits[:, 0] == bits[:, 1])
    assert math.isclose(bits[:, 0].mean(), 0.5, abs_tol=5 * 0.5 / math.sqrt(SHOTS))


# -- the service around the program: restart recovery, usage limits ------------------------------


def test_an_executor_job_queued_before_a_restart_runs_after_it(tmp_path: Any) -> None:
    from jupyter_qrt.local.core import LocalRuntime

    program = QuantumProgram(shots=64)
    program.append_circuit_item(rotation(), circuit_arguments=np.array([[np.pi]]))
    body = {"program_id": "executor", "backend": IDEAL_SIMULATOR_NAME, "params": params_of(program)}
    first = LocalRuntime(tmp_path, workers=1)
    first.start(run_jobs=False)  # jobs are accepted and stored, none runs
    crn = first.default_instance.crn
    job_id = first.create_job(crn, "me", body)["id"]
    assert first.job(crn, job_id)["state"]["status"] == "Queued"
    first.stop()

    with LocalRuntime(tmp_path, workers=1) as second:
        details = second.wait_for_job(crn, job_id, timeout=120)
        assert details["state"]["status"] == "Completed", details
        result = QuantumProgramResultModel.model_validate_json(second.job_results(crn, job_id))
    assert result.data[0].results["c"].to_numpy().all()  # rx(pi): every shot reads 1


def test_an_executor_job_past_the_usage_limit_is_refused(tmp_path: Any) -> None:
    from jupyter_qrt.local.core import LocalRuntime
    from jupyter_qrt.local.service_error import ServiceError

    program = QuantumProgram(shots=8)
    program.append_circuit_item(rotation(), circuit_arguments=np.zeros((1,)))
    body = {"program_id": "executor", "backend": "qrt_wren", "params": params_of(program)}
    with LocalRuntime(tmp_path, workers=1) as runtime:
        course = runtime.create_instance("course", usage_limit_seconds=0)
        with pytest.raises(ServiceError) as refused:
            runtime.create_job(course.crn, "alice", body)
        assert refused.value.status == 403
        assert runtime.jobs(course.crn)["count"] == 0
