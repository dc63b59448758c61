"""Our Executor posts the official Executor's job body, byte for byte, and reads its results alike.

Both clients talk to the local runtime service over real HTTP (service start, backends, sessions,
usage). As in ``test_wire_parity_jobs.py``, ``POST /jobs`` is intercepted with ``responses``: the
body is recorded as it leaves ``requests`` and answered with an id, so no job runs (the service
side of the executor is not needed). The official ``qiskit_ibm_runtime.Executor`` (0.51) and our
``Executor`` are given the same samplomatic ``QuantumProgram`` and options, in job mode, in a
Session and in a Batch, and the two bodies must be equal: as JSON documents (walked key by key,
so a difference is named by its path, ``params`` tensors and circuits decoded by the schema
models for a readable diff), then as text.

Normalisation: each client opens its own session, so ``session_id`` is replaced by a placeholder.
Nothing else is normalised; one input is held fixed instead: serialising a samplex writes a
scratch ``QuantumCircuit`` named after qiskit's process-wide count of circuits made so far
(``circuit-<n>``), so two serialisations of one samplex differ in that name, in either client.
Both clients run with the count set to the same value just before ``run()``.

Results: a ``QuantumProgramResultModel`` built with the schema classes from known arrays is
served as a job's results; ours must give back the same arrays, and the same result as the
official client's ``job.result()`` and ``ExecutorResultDecoder`` on the same text.
"""

from __future__ import annotations

import json
import re
import warnings
from collections.abc import Callable, Iterator
from dataclasses import asdict
from datetime import UTC, datetime
from typing import Any

import numpy as np
import pytest
import responses
from ibm_quantum_schemas.common import CompressedTensorModel
from ibm_quantum_schemas.executor.version_2_0 import (
    ChunkPart,
    ChunkSpan,
    ItemMetadataModel,
    MetadataModel,
    ParamsModel,
    QuantumProgramResultItemModel,
    QuantumProgramResultModel,
    SchedulerTimingModel,
    StretchValueModel,
)
from qiskit.circuit import Parameter, QuantumCircuit
from qiskit.quantum_info import PauliLindbladMap
from samplomatic import InjectNoise, Twirl, build
from samplomatic.quantum_program import QuantumProgram
from samplomatic.quantum_program import QuantumProgramResult as SamplomaticResult

from jupyter_qrt.local.server import LocalService
from jupyter_qrt.runtime import Batch, Executor, QuantumProgramResult, RuntimeService, Session

with warnings.catch_warnings():
    warnings.simplefilter("ignore", DeprecationWarning)
    from qiskit_ibm_runtime import Batch as OfficialBatch
    from qiskit_ibm_runtime import QiskitRuntimeService
    from qiskit_ibm_runtime import Session as OfficialSession
    from qiskit_ibm_runtime.decoders.executor.decoder import ExecutorResultDecoder
    from qiskit_ibm_runtime.executor import Executor as OfficialExecutor

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")

DEVICE = "qrt_robin"  # 7 qubits, cx/rz/sx/x: sessions open on devices, not on simulators
SESSION_PLACEHOLDER = "<session of the client>"
CIRCUIT_COUNT = 10_000  # qiskit's circuit count when each client serialises (module docstring)
OPTIONS: dict[str, Any] = {
    "execution": {"init_qubits": False, "rep_delay": 0.0002},
    "experimental": {"seed_simulator": 7},
    "environment": {"job_tags": ["executor", "parity"], "log_level": "INFO"},
    "max_execution_time": 300,
}


class Clients:
    """The local service with both clients on it, and a recorder of ``POST /jobs`` bodies."""

    def __init__(self, local: LocalService, official: Any, ours: RuntimeService) -> None:
        self.local = local
        self.official = official
        self.ours = ours
        self.official_backend = official.backend(DEVICE)
        self.our_backend = ours.backend(DEVICE)
        assert self.our_backend.target is not None  # built now, not inside a recorded run()

    def posted_jobs(self, submit: Callable[[], Any]) -> list[str]:
        """Call ``submit`` with ``POST /jobs`` intercepted; the bodies it posted, in order."""
        bodies: list[str] = []

        def record(request: Any) -> tuple[int, dict[str, str], str]:
            body = request.body
            bodies.append(body.decode() if isinstance(body, bytes) else str(body))
            reply = {"id": f"recorded-{len(bodies)}", "backend": DEVICE}
            return 200, {"Content-Type": "application/json"}, json.dumps(reply)

        with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
            mock.add_passthru(re.compile(re.escape(self.local.url) + "/"))
            mock.add_callback("POST", f"{self.local.api_url}/jobs", callback=record)
            submit()
        return bodies


@pytest.fixture(scope="module")
def clients(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Clients]:
    """The local service (no job ever reaches it) and both clients connected to it."""
    with LocalService(tmp_path_factory.mktemp("executor-service"), workers=1) as local:
        environment = local.env()
        with pytest.MonkeyPatch.context() as patch:
            patch.setenv("HOME", str(tmp_path_factory.mktemp("official-home")))
            for name, value in environment.items():
                patch.setenv(name, value)
            official = QiskitRuntimeService()
        home = str(tmp_path_factory.mktemp("our-home"))
        with RuntimeService(env={**environment, "HOME": home}) as ours:
            yield Clients(local, official, ours)


# -- the program ---------------------------------------------------------------------------------


def sweep_circuit() -> QuantumCircuit:
    """A parametrised ISA circuit of the device (its own gates, on coupled qubits)."""
    a, b, c = Parameter("a"), Parameter("b"), Parameter("θ")
    circuit = QuantumCircuit(3, name="sweep")
    circuit.rz(a, 0)
    circuit.sx(0)
    circuit.rz(b, 1)
    circuit.cx(0, 1)
    circuit.sx(2)
    circuit.rz(2 * c + 1, 2)
    circuit.cx(1, 2)
    circuit.measure_all()
    return circuit


def twirled_template() -> tuple[QuantumCircuit, Any]:
    """``samplomatic.build`` of boxes twirled on gates and measurements (one also injects a
    Pauli Lindblad noise map), with a parameter: a template of ISA gates and its samplex."""
    theta = Parameter("t")
    circuit = QuantumCircuit(4)
    with circuit.box([Twirl()]):
        circuit.rz(theta, 0)
        circuit.sx(0)
        circuit.cx(0, 1)
    with circuit.box([Twirl(), InjectNoise("layer")]):
        circuit.cx(1, 3)
    with circuit.box([Twirl()]):
        circuit.measure_all()
    return build(circuit)


def passthrough() -> dict[str, Any]:
    return {
        "post_processor": {"name": "mine", "version": "v1"},
        "scalars": [1, 2.5, "text", None, True, -7],
        "arrays": {
            "f64": np.linspace(0, 1, 6).reshape(2, 3),
            "f32": np.arange(4, dtype=np.float32),
            "bool": np.array([[True, False, True]]),
            "i64": np.arange(-3, 3),
            "c128": np.array([1 + 2j, -0.5j]),
        },
        "nested": [{"deep": [np.eye(2), {"deeper": np.zeros((0, 2))}]}, (3, "tuple")],
    }


def full_program(*, chunk_size: int | None = 4) -> QuantumProgram:
    """(a) a circuit item sweeping 3 parameters over a 3 x 4 grid, (b) a twirled samplex item
    of shape (8,), (c) nested passthrough data."""
    program = QuantumProgram(shots=128, passthrough_data=passthrough())
    circuit = sweep_circuit()
    arguments = np.linspace(-np.pi, np.pi, 3 * 4 * 3).reshape(3, 4, 3)
    program.append_circuit_item(circuit, arguments, chunk_size=chunk_size)
    template, samplex = twirled_template()
    noise = PauliLindbladMap.from_list([("XX", 0.01), ("ZI", 0.002), ("IY", 0.003)])
    program.append_samplex_item(
        template,
        samplex,
        {"parameter_values": np.array([0.25]), "pauli_lindblad_maps.layer": noise},
        shape=(8,),
        chunk_size=chunk_size,
    )
    return program


# -- running both clients ----------------------------------------------------------------------


def _run_both(
    clients: Clients,
    program: QuantumProgram,
    options: dict[str, Any],
    mode: str,
    monkeypatch: pytest.MonkeyPatch,
) -> tuple[str, str, tuple[str, str] | None]:
    """Our body, the official body, and the two session ids (None in job mode)."""

    def official_run(where: Any) -> None:
        monkeypatch.setattr(QuantumCircuit, "instances", CIRCUIT_COUNT)
        OfficialExecutor(where, options=options).run(program)

    def our_run(where: Any) -> None:
        monkeypatch.setattr(QuantumCircuit, "instances", CIRCUIT_COUNT)
        Executor(mode=where, options=options).run(program)

    if mode == "job":
        theirs = clients.posted_jobs(lambda: official_run(clients.official_backend))
        ours = clients.posted_jobs(lambda: our_run(clients.our_backend))
        sessions = None
    else:
        official_class = OfficialSession if mode == "session" else OfficialBatch
        our_class = Session if mode == "session" else Batch
        with official_class(backend=clients.official_backend) as official_session:
            theirs = clients.posted_jobs(lambda: official_run(official_session))
            their_id = official_session.session_id
        with our_class(clients.our_backend) as our_session:
            ours = clients.posted_jobs(lambda: our_run(our_session))
            our_id = our_session.session_id
        assert our_id != their_id
        sessions = (our_id, their_id)
    assert len(ours) == len(theirs) == 1
    return ours[0], theirs[0], sessions


def _document(body: str, session_id: str | None) -> dict[str, Any]:
    document: dict[str, Any] = json.loads(body)
    if session_id is not None:
        assert document.get("session_id") == session_id  # each client's own session
        document["session_id"] = SESSION_PLACEHOLDER
    return document


def _assert_same(ours: Any, theirs: Any, where: str = "body") -> None:
    """Deep equality with the path of the first difference; key order counts."""
    assert type(ours) is type(theirs), f"{where}: {type(ours).__name__} != {type(theirs).__name__}"
    if isinstance(theirs, dict):
        assert list(ours) == list(theirs), f"{where}: keys {list(ours)} != {list(theirs)}"
        for key in theirs:
            _assert_same(ours[key], theirs[key], f"{where}.{key}")
    elif isinstance(theirs, list):
        assert len(ours) == len(theirs), f"{where}: {len(ours)} items != {len(theirs)}"
        for index, (mine, their) in enumerate(zip(ours, theirs, strict=True)):
            _assert_same(mine, their, f"{where}[{index}]")
    elif isinstance(theirs, np.ndarray):
        assert (ours.dtype, ours.shape) == (theirs.dtype, theirs.shape), where
        np.testing.assert_array_equal(ours, theirs, err_msg=where)
    else:
        assert ours == theirs, f"{where}: {ours!r:.300} != {theirs!r:.300}"


def _json_tree(text: str) -> Any:
    """JSON text with the JSON texts inside it parsed too (a samplex nests them deeply)."""
    value = json.loads(text)
    if isinstance(value, dict):
        return {key: _nested_json(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_nested_json(item) for item in value]
    return value


def _nested_json(value: Any) -> Any:
    if isinstance(value, str) and value[:1] in "{[":
        try:
            return _json_tree(value)
        except ValueError:
            return value
    if isinstance(value, dict):
        return {key: _nested_json(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_nested_json(item) for item in value]
    return value


def _decoded_params(params: dict[str, Any]) -> dict[str, Any]:
    """``params`` with tensors as arrays and circuits as circuits (the schema's own decoding)."""
    model = ParamsModel.model_validate(params)
    program = model.quantum_program
    items = []
    for item in program.items:
        decoded = item.model_dump()
        if item.item_type == "circuit":
            decoded["circuit_arguments"] = item.circuit_arguments.to_numpy()
        else:
            decoded["samplex"]["samplex_json"] = _json_tree(item.samplex.samplex_json)
            decoded["samplex_arguments"] = {
                name: value.to_numpy() if isinstance(value, CompressedTensorModel) else value
                for name, value in item.samplex_arguments.items()
            }
        items.append(decoded)
    return {
        "circuits": program.circuits.to_python(),
        "items": items,
        "passthrough_data": _passthrough_arrays(params["quantum_program"]["passthrough_data"]),
        "options": model.options.model_dump(),
    }


def _passthrough_arrays(data: Any) -> Any:
    if isinstance(data, dict) and set(data) == {"data", "shape", "dtype"}:
        return CompressedTensorModel.model_validate(data).to_numpy()
    if isinstance(data, dict):
        return {key: _passthrough_arrays(value) for key, value in data.items()}
    if isinstance(data, list):
        return [_passthrough_arrays(value) for value in data]
    return data


def assert_same_bodies(ours: str, theirs: str, sessions: tuple[str, str] | None) -> None:
    """Equal as documents (decoded params first, for a readable diff), then as text."""
    our_session, their_session = sessions or (None, None)
    our_document = _document(ours, our_session)
    their_document = _document(theirs, their_session)
    _assert_same(
        _decoded_params(our_document["params"]),
        _decoded_params(their_document["params"]),
        "params (decoded)",
    )
    _assert_same(our_document, their_document)
    if sessions is None:
        assert ours == theirs
    else:
        assert ours.replace(our_session or "", SESSION_PLACEHOLDER) == theirs.replace(
            their_session or "", SESSION_PLACEHOLDER
        )


# -- job bodies --------------------------------------------------------------------------------


@pytest.mark.parametrize("mode", ["job", "session", "batch"])
def test_a_program_with_every_kind_of_content_posts_the_official_body(
    clients: Clients, mode: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A swept circuit item, a twirled samplex item, nested passthrough data and options."""
    ours, theirs, sessions = _run_both(clients, full_program(), OPTIONS, mode, monkeypatch)
    assert_same_bodies(ours, theirs, sessions)
    body = json.loads(theirs)
    assert body["program_id"] == "executor"
    assert (body["tags"], body["cost"], body["log_level"]) == (["executor", "parity"], 300, "INFO")
    program = body["params"]["quantum_program"]
    circuit_item, samplex_item = program["items"]
    assert circuit_item["circuit_arguments"]["shape"] == [3, 4, 3]
    assert (circuit_item["shape"], circuit_item["chunk_size"]) == ([], 4)
    assert (samplex_item["item_type"], samplex_item["shape"]) == ("samplex", [8])
    assert list(samplex_item["samplex_arguments"]) == [
        "parameter_values",
        "pauli_lindblad_maps.layer",
    ]
    assert body["params"]["options"] == {
        "init_qubits": False,
        "rep_delay": 0.0002,
        "scheduler_timing": False,
        "stretch_values": False,
        "experimental": {"seed_simulator": 7},
    }
    assert ("session_id" in body) == (mode != "job")


def test_defaults_auto_chunks_and_no_passthrough_post_the_official_body(
    clients: Clients, monkeypatch: pytest.MonkeyPatch
) -> None:
    """No options set and chunk sizes left to the service: defaults written out, "auto"."""
    program = full_program(chunk_size=None)
    program.passthrough_data = None
    ours, theirs, _ = _run_both(clients, program, {}, "job", monkeypatch)
    assert_same_bodies(ours, theirs, None)
    body = json.loads(theirs)
    assert [item["chunk_size"] for item in body["params"]["quantum_program"]["items"]] == [
        "auto",
        "auto",
    ]
    assert body["params"]["options"]["experimental"] == {}
    assert "tags" not in body
    assert "cost" not in body


def test_the_comparison_sees_a_dropped_passthrough_data(
    clients: Clients, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The check has teeth: ours made to drop ``passthrough_data`` no longer passes it."""
    import jupyter_qrt.runtime.wire.program as wire_program

    monkeypatch.setattr(wire_program, "_passthrough_to_model", lambda data, where: None)
    ours, theirs, _ = _run_both(clients, full_program(), OPTIONS, "job", monkeypatch)
    with pytest.raises(AssertionError, match="passthrough_data"):
        assert_same_bodies(ours, theirs, None)


# -- results -----------------------------------------------------------------------------------


def _known_result() -> tuple[dict[str, Any], str]:
    """Arrays, and a v2.0 result model holding them as JSON text (the schema's own encoding)."""
    rng = np.random.default_rng(12)
    arrays: dict[str, Any] = {
        "meas": rng.random((3, 4, 128, 3)) < 0.5,
        "twirled_meas": rng.random((8, 128, 4)) < 0.5,
        "flips": rng.random((8, 1, 4)) < 0.5,
        "values": rng.random((8, 21)).astype(np.float32),
        "weights": rng.normal(size=(8,)),
        "passed": np.arange(6, dtype=np.int64).reshape(2, 3),
    }
    start = datetime(2026, 3, 1, 12, 0, 0, 250000, tzinfo=UTC)
    stop = datetime(2026, 3, 1, 12, 0, 1, 500000, tzinfo=UTC)
    model = QuantumProgramResultModel(
        data=[
            QuantumProgramResultItemModel(
                results={"meas": CompressedTensorModel.from_numpy(arrays["meas"])},
                metadata=ItemMetadataModel(
                    scheduler_timing=SchedulerTimingModel(
                        timing="q0,x,0,160", circuit_duration=1200
                    )
                ),
            ),
            QuantumProgramResultItemModel(
                results={
                    "meas": CompressedTensorModel.from_numpy(arrays["twirled_meas"]),
                    "measurement_flips.meas": CompressedTensorModel.from_numpy(arrays["flips"]),
                    "parameter_values": CompressedTensorModel.from_numpy(arrays["values"]),
                    "weights": CompressedTensorModel.from_numpy(arrays["weights"]),
                },
                metadata=ItemMetadataModel(
                    stretch_values=[
                        StretchValueModel(
                            name="s", value=16, remainder=2, expanded_values=[(0, 16), (40, 18)]
                        )
                    ]
                ),
            ),
        ],
        metadata=MetadataModel(
            chunk_timing=[
                ChunkSpan(
                    start=start,
                    stop=stop,
                    parts=[
                        ChunkPart(
                            idx_item=0, size=12, permutation=[0, 1], element_range=(0, 12, 1)
                        ),
                        ChunkPart(idx_item=1, size=8, permutation=[0], element_range=(0, 8, 1)),
                    ],
                )
            ]
        ),
        passthrough_data={
            "post_processor": {"version": "v1"},
            "arrays": [CompressedTensorModel.from_numpy(arrays["passed"]), 3, None, "x"],
        },
        semantic_role="custom-role",
    )
    return arrays, model.model_dump_json()


def _served_result(clients: Clients, text: str, fetch: Callable[[str], Any]) -> Any:
    """``fetch(job_id)`` with the job ``executor-1`` served as a completed executor job whose
    results are ``text``."""
    job_id = "executor-1"
    details = {
        "id": job_id,
        "backend": DEVICE,
        "program": {"id": "executor"},
        "state": {"status": "Completed"},
        "status": "Completed",
        "created": "2026-03-01T12:00:00Z",
        "runtime": "",
        "user_id": "u",
        "tags": [],
    }
    job_url = re.compile(re.escape(f"{clients.local.api_url}/jobs/{job_id}") + r"(\?.*)?$")
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        mock.add_passthru(re.compile(re.escape(clients.local.url) + "/"))
        mock.add("GET", job_url, json=details)
        mock.add("GET", f"{clients.local.api_url}/jobs/{job_id}/results", body=text)
        return fetch(job_id)


def test_a_result_decodes_to_the_arrays_it_was_made_of_and_to_the_official_result(
    clients: Clients,
) -> None:
    arrays, text = _known_result()
    ours = _served_result(clients, text, lambda job_id: clients.ours.job(job_id).result())
    theirs = _served_result(clients, text, lambda job_id: clients.official.job(job_id).result())
    decoded = ExecutorResultDecoder.decode(text)

    assert isinstance(ours, QuantumProgramResult)
    assert isinstance(ours, SamplomaticResult)
    # the inputs back, dtype and shape included
    expected = [
        {"meas": arrays["meas"]},
        {
            "meas": arrays["twirled_meas"],
            "measurement_flips.meas": arrays["flips"],
            "parameter_values": arrays["values"],
            "weights": arrays["weights"],
        },
    ]
    assert len(ours) == 2
    for index, (item, wanted) in enumerate(zip(ours, expected, strict=True)):
        _assert_same(dict(item), wanted, f"result[{index}]")
    _assert_same(ours.passthrough_data["arrays"][0], arrays["passed"])
    assert ours.semantic_role == ours._semantic_role == "custom-role"
    span = ours.metadata.chunk_timing[0]
    assert span.start == datetime(2026, 3, 1, 12, 0, 0, 250000, tzinfo=UTC)
    assert [(p.idx_item, p.size) for p in span.parts] == [(0, 12), (1, 8)]
    assert ours.timing.duration == pytest.approx(1.25)
    assert ours[0].metadata.scheduler_timing.circuit_duration == 1200
    assert ours[1].metadata.stretch_values[0].expanded_values == [(0, 16), (40, 18)]
    # the official client's job.result() and its decoder on the same text agree with ours
    for official in (theirs, decoded):
        assert len(official) == len(ours)
        for index, (mine, their) in enumerate(zip(ours, official, strict=True)):
            _assert_same(dict(mine), dict(their), f"result[{index}]")
            assert asdict(mine.metadata) == asdict(their.metadata)
        assert ours.metadata.chunk_timing == official.metadata.chunk_timing
        _assert_same(ours.passthrough_data, official.passthrough_data, "passthrough_data")
        assert ours._semantic_role == official._semantic_role
