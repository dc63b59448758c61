"""Executor, ExecutorOptions, the executor's params and results, against the fake IBM cloud.

The byte-for-byte comparison with the official client is ``test_executor_parity.py``; here: what
the params look like, what is refused (before any request) and how, what options become in the
job request, how an executor job's result is read, and that none of this is imported by
``import jupyter_qrt.runtime``.
"""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import UTC, datetime
from typing import Any

import numpy as np
import pytest
from ibm_quantum_schemas.common import CompressedQpyDataModel, CompressedTensorModel
from ibm_quantum_schemas.executor.version_2_0 import (
    ChunkPart,
    ChunkSpan,
    ItemMetadataModel,
    MetadataModel,
    QuantumProgramResultItemModel,
    QuantumProgramResultModel,
)
from qiskit import QuantumCircuit
from qiskit.circuit import Parameter
from samplomatic import Twirl, build
from samplomatic.quantum_program import QuantumProgram

from jupyter_qrt.runtime import (
    Account,
    Executor,
    ExecutorOptions,
    InvalidInputError,
    JobFailedError,
    NotISAError,
    QuantumProgramResult,
    RuntimeService,
    Session,
)
from jupyter_qrt.runtime.wire.program import decode_program_result, executor_params

from .fake_ibm import FakeIBMCloud

BACKEND = "fake_manila"  # 5 qubits in a line; rz, sx, x, cx


@pytest.fixture
def service(fake_ibm: FakeIBMCloud) -> RuntimeService:
    return RuntimeService(
        Account(channel="ibm_quantum_platform", token=fake_ibm.api_key, instance=fake_ibm.crn)
    )


def swept() -> QuantumCircuit:
    """An ISA circuit of fake_manila with two parameters."""
    a, b = Parameter("a"), Parameter("b")
    circuit = QuantumCircuit(2)
    circuit.rz(a, 0)
    circuit.sx(0)
    circuit.cx(0, 1)
    circuit.rz(b, 1)
    circuit.measure_all()
    return circuit


def program(circuit: QuantumCircuit | None = None, **passthrough: Any) -> QuantumProgram:
    built = QuantumProgram(shots=50, passthrough_data=passthrough or None)
    built.append_circuit_item(circuit or swept(), np.arange(12).reshape(2, 3, 2))
    return built


def posted(fake_ibm: FakeIBMCloud) -> list[dict[str, Any]]:
    return [json.loads(call.body) for call in fake_ibm.calls_to("POST", "/api/v1/jobs")]


# -- params ------------------------------------------------------------------------------------


def test_params_are_the_schema_model_as_the_official_converter_fills_it() -> None:
    circuit = swept()
    params = executor_params(program(circuit, scale=np.float32([0.5, 2]), pair=(1, "two")))
    assert list(params) == ["schema_version", "quantum_program", "options"]
    assert params["schema_version"] == "v2.0"
    quantum_program = params["quantum_program"]
    # the schema's field order: semantic_role is declared before meas_level and passthrough_data
    assert list(quantum_program) == [
        "shots",
        "circuits",
        "items",
        "semantic_role",
        "meas_level",
        "passthrough_data",
    ]
    circuits = CompressedQpyDataModel.model_validate(quantum_program["circuits"]).to_python()
    assert circuits == [circuit]
    (item,) = quantum_program["items"]
    assert item["item_type"] == "circuit"
    # integer sweep values travel as float64; the item's own shape is [], not the sweep's
    tensor = CompressedTensorModel.model_validate(item["circuit_arguments"])
    assert (tensor.dtype, tensor.shape, item["shape"], item["chunk_size"]) == (
        "f64",
        [2, 3, 2],
        [],
        "auto",
    )
    # passthrough arrays keep their dtype (float32 stays f32); tuples become lists
    scale = quantum_program["passthrough_data"]["scale"]
    assert scale["dtype"] == "f32"
    assert quantum_program["passthrough_data"]["pair"] == [1, "two"]
    assert params["options"] == {
        "init_qubits": True,
        "rep_delay": None,
        "scheduler_timing": False,
        "stretch_values": False,
        "experimental": {},
    }


def test_a_samplex_item_sends_its_samplex_arguments_and_shape() -> None:
    theta = Parameter("t")
    circuit = QuantumCircuit(2)
    with circuit.box([Twirl()]):
        circuit.rz(theta, 0)
        circuit.cx(0, 1)
    with circuit.box([Twirl()]):
        circuit.measure_all()
    template, samplex = build(circuit)
    built = QuantumProgram(shots=10)
    built.append_samplex_item(template, samplex, {"parameter_values": [0.5]}, shape=(8,))
    (item,) = executor_params(built)["quantum_program"]["items"]
    assert (item["item_type"], item["shape"], item["chunk_size"]) == ("samplex", [8], "auto")
    assert item["samplex"]["ssv"] == 4
    assert list(item["samplex_arguments"]) == ["parameter_values"]


def test_the_semantic_role_of_qiskit_ibm_runtimes_program_is_sent() -> None:
    from qiskit_ibm_runtime.quantum_program import QuantumProgram as OfficialProgram

    official = OfficialProgram.from_(program())
    official._semantic_role = "sampler-v2"
    assert executor_params(official)["quantum_program"]["semantic_role"] == "sampler-v2"
    assert executor_params(program())["quantum_program"]["semantic_role"] is None


def test_meas_level_is_left_to_the_service_as_the_official_client_does() -> None:
    built = program()
    built.meas_level = "kerneled"
    assert executor_params(built)["quantum_program"]["meas_level"] == "kerneled"


def _mixed_chunks() -> QuantumProgram:
    built = program()
    built.append_circuit_item(swept(), np.zeros((1, 2)), chunk_size=2)
    return built


def _zero_shots() -> QuantumProgram:
    built = program()
    built.shots = 0
    return built


def _level(level: str) -> QuantumProgram:
    built = program()
    built.meas_level = level
    return built


@pytest.mark.parametrize(
    ("make", "words"),
    [
        (_zero_shots, r"quantum_program\.shots: Input should be greater than or equal to 1"),
        (
            _mixed_chunks,
            r"quantum_program: Some quantum .* must specify one or the other\. Fix",
        ),
        (lambda: _level("raw"), r"quantum_program\.meas_level: Input should be 'classified'"),
        (lambda: program(labels=np.array(["a"])), r"passthrough_data\.labels is an array of <U1"),
        (lambda: program(x={1: "int key"}), r"passthrough_data\.x has the key 1, and keys must"),
        (lambda: program(x=[0, 1j]), r"passthrough_data\.x\[1\] is a complex \(1j\)\. Pass"),
    ],
)
def test_a_value_the_schema_refuses_is_named(make: Any, words: str) -> None:
    with pytest.raises(InvalidInputError, match=words):
        executor_params(make())


# -- bad input: one clear line, no request -------------------------------------------------------


def _not_isa() -> QuantumProgram:
    circuit = QuantumCircuit(2)
    circuit.h(0)
    circuit.cx(0, 1)
    circuit.measure_all()
    built = QuantumProgram(shots=10)
    built.append_circuit_item(circuit)
    return built


@pytest.mark.parametrize(
    ("make", "error", "words"),
    [
        (
            swept,
            InvalidInputError,
            r"takes a samplomatic QuantumProgram, not QuantumCircuit\. Build",
        ),
        (lambda: [program()], InvalidInputError, r"not list\. Build one with"),
        (lambda: QuantumProgram(shots=10), InvalidInputError, r"has no items.*append_circuit_item"),
        (_not_isa, NotISAError, r"'h' on qubits \(0,\).*generate_preset_pass_manager"),
    ],
)
def test_a_bad_program_is_refused_before_any_request(
    service: RuntimeService, fake_ibm: FakeIBMCloud, make: Any, error: type, words: str
) -> None:
    executor = Executor(mode=service.backend(BACKEND))
    with pytest.raises(error, match=words) as raised:
        executor.run(make())
    assert "\n" not in str(raised.value)
    assert fake_ibm.count("POST", "/api/v1/jobs") == 0


@pytest.mark.parametrize("mode", [None, "fake_manila", 3])
def test_a_mode_that_is_not_a_backend_or_session_says_what_to_pass(
    fake_ibm: FakeIBMCloud, mode: Any
) -> None:
    with pytest.raises(
        InvalidInputError, match=r"Executor needs mode=: a backend .* Session/Batch"
    ):
        Executor(mode=mode)
    assert fake_ibm.count("POST", "/api/v1/jobs") == 0


# -- options and the job request ---------------------------------------------------------------


def test_options_are_checked_as_they_are_set() -> None:
    options = ExecutorOptions({"execution": {"init_qubits": False}})
    options.execution.rep_delay = 1
    assert options.to_dict() == {"execution": {"init_qubits": False, "rep_delay": 1.0}}
    with pytest.raises(InvalidInputError, match=r"Unknown option 'execution\.meas_type'"):
        options.execution.meas_type = "classified"
    with pytest.raises(InvalidInputError, match=r"'experimental\.pair' must be JSON"):
        options.experimental = {"pair": (1, 2)}
    with pytest.raises(InvalidInputError, match=r"'environment\.image' must be a runtime image"):
        options.environment.image = "no tag"
    options.experimental = {"seed": np.float64(7.0), "nested": {"ok": [1, None]}}
    assert options.experimental == {"seed": 7.0, "nested": {"ok": [1, None]}}
    assert type(options.experimental["seed"]) is float


def test_options_split_between_the_program_and_the_job_request_as_the_official_client_does(
    service: RuntimeService, fake_ibm: FakeIBMCloud
) -> None:
    executor = Executor(mode=service.backend(BACKEND))
    executor.options.execution.init_qubits = False
    executor.options.execution.scheduler_timing = True
    executor.options.experimental = {"image": "stays:here", "seed_simulator": 3}
    executor.options.environment.job_tags = ["t1"]
    executor.options.environment.private = True
    executor.options.environment.image = "qiskit/runtime:1.2"
    executor.options.max_execution_time = 120
    job = executor.run(program())
    assert job.program_id == "executor"
    (body,) = posted(fake_ibm)
    assert list(body) == [
        "program_id",
        "params",
        "runtime",
        "log_level",
        "backend",
        "tags",
        "cost",
        "private",
    ]
    assert (body["runtime"], body["log_level"], body["tags"], body["cost"]) == (
        "qiskit/runtime:1.2",
        "WARNING",
        ["t1"],
        120,
    )
    assert body["params"]["options"] == {
        "init_qubits": False,
        "rep_delay": None,
        "scheduler_timing": True,
        "stretch_values": False,
        "experimental": {"image": "stays:here", "seed_simulator": 3},
    }


def test_a_job_in_a_session_carries_the_session(
    service: RuntimeService, fake_ibm: FakeIBMCloud
) -> None:
    with Session(service.backend(BACKEND)) as session:
        job = Executor(mode=session).run(program())
    (body,) = posted(fake_ibm)
    assert body["session_id"] == session.session_id == job.session_id


# -- results -----------------------------------------------------------------------------------


def _result_text(semantic_role: str | None = None) -> tuple[np.ndarray, str]:
    meas = np.random.default_rng(3).random((2, 3, 50, 2)) < 0.5
    model = QuantumProgramResultModel(
        data=[
            QuantumProgramResultItemModel(
                results={"meas": CompressedTensorModel.from_numpy(meas)},
                metadata=ItemMetadataModel(),
            )
        ],
        metadata=MetadataModel(
            chunk_timing=[
                ChunkSpan(
                    start=datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC),
                    stop=datetime(2026, 1, 2, 3, 4, 6, tzinfo=UTC),
                    parts=[
                        ChunkPart(idx_item=0, size=6, permutation=[0, 1], element_range=(0, 6, 1))
                    ],
                )
            ]
        ),
        passthrough_data={"weights": CompressedTensorModel.from_numpy(np.ones(3))},
        semantic_role=semantic_role,
    )
    return meas, model.model_dump_json()


def test_an_executor_job_result_is_a_quantum_program_result(
    service: RuntimeService, fake_ibm: FakeIBMCloud
) -> None:
    meas, text = _result_text("custom")
    stored = fake_ibm.add_job(crn=fake_ibm.crn, program_id="executor")
    stored.result_text = text
    job = service.job(stored.id)
    result = job.result()
    assert isinstance(result, QuantumProgramResult)
    np.testing.assert_array_equal(result[0]["meas"], meas)
    assert result[0]["meas"].dtype == np.bool_
    assert result.semantic_role == "custom"
    assert result.timing.duration == 1.0
    np.testing.assert_array_equal(result.passthrough_data["weights"], np.ones(3))
    assert job.result() is result  # read once


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ('{"__type__": "PrimitiveResult", "__value__": {}}', "no schema_version"),
        ('{"schema_version": "v1.1", "data": []}', "schema version 'v1.1' and this client"),
        ('{"schema_version": "v2.0", "data": []}', r"metadata: Field required"),
        ("not json", "not a JSON object"),
    ],
)
def test_an_executor_result_that_cannot_be_read_says_why(
    service: RuntimeService, fake_ibm: FakeIBMCloud, text: str, words: str
) -> None:
    stored = fake_ibm.add_job(crn=fake_ibm.crn, program_id="executor")
    stored.result_text = text
    with pytest.raises(JobFailedError, match=f"{words}.*job.raw_result()"):
        service.job(stored.id).result()
    with pytest.raises(InvalidInputError, match=words):
        decode_program_result(text)


def test_a_naive_chunk_time_is_read_as_utc_and_a_zoned_one_converted() -> None:
    _, text = _result_text()
    naive = text.replace("2026-01-02T03:04:05Z", "2026-01-02T03:04:05")
    zoned = text.replace("2026-01-02T03:04:06Z", "2026-01-02T05:04:06+02:00")
    for variant in (naive, zoned):
        span = decode_program_result(variant).metadata.chunk_timing[0]
        assert (span.start, span.stop) == (
            datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC),
            datetime(2026, 1, 2, 3, 4, 6, tzinfo=UTC),
        )


# -- import cost -------------------------------------------------------------------------------


def test_the_executor_and_its_options_do_not_import_samplomatic_or_the_schemas() -> None:
    """Only building an executor job or reading its result does."""
    code = (
        "import sys\n"
        "import jupyter_qrt.runtime as runtime\n"
        "heavy = ('samplomatic', 'ibm_quantum_schemas', 'pydantic')\n"
        "loaded = lambda: [name for name in heavy if name in sys.modules]\n"
        "assert loaded() == [], loaded()\n"
        "options = runtime.ExecutorOptions({'execution': {'init_qubits': False}})\n"
        "runtime.Executor, runtime.Sampler, runtime.Job\n"
        "assert loaded() == [], loaded()\n"
        "runtime.QuantumProgramResult\n"
        "assert 'samplomatic' in sys.modules\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=False
    )
    assert done.returncode == 0, done.stderr
