"""Our wire encoding against qiskit-ibm-runtime's, on generated inputs.

Job bodies: the official ``SamplerV2``/``EstimatorV2.run`` build their ``params`` (we capture
them where the client hands them to its service) and the official ``Runtime.program_run`` turns
them into the POST body text; ours must be the same text. Results: objects encoded by the
official ``RuntimeEncoder`` must decode with our ``loads`` to what ``RuntimeDecoder`` gives.
"""

from __future__ import annotations

import json
import warnings
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace
from typing import Any

import numpy as np
import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp
from qiskit.circuit import ClassicalRegister, Parameter, QuantumCircuit, QuantumRegister
from qiskit.primitives.containers import (
    BitArray,
    DataBin,
    PrimitiveResult,
    PubResult,
    SamplerPubResult,
)
from qiskit.providers.fake_provider import GenericBackendV2
from qiskit.quantum_info import SparsePauliOp
from qiskit.transpiler import CouplingMap

from jupyter_qrt.runtime.errors import InvalidInputError
from jupyter_qrt.runtime.wire import result_types
from jupyter_qrt.runtime.wire.decoding import loads
from jupyter_qrt.runtime.wire.encoding import dumps, estimator_params, sampler_params

with warnings.catch_warnings():
    warnings.simplefilter("ignore", DeprecationWarning)
    from qiskit_ibm_runtime import EstimatorV2, RuntimeDecoder, RuntimeEncoder, SamplerV2
    from qiskit_ibm_runtime import execution_span as official_spans
    from qiskit_ibm_runtime.api.rest.runtime import Runtime
    from qiskit_ibm_runtime.fake_provider.local_service import QiskitRuntimeLocalService
    from qiskit_ibm_runtime.results import EstimatorPubResult as OfficialEstimatorPubResult

PARITY = settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
PARAMETER_NAMES = ["a", "b", "theta", "φ"]  # a non-ASCII name exercises QPY and JSON escaping


class _SimulatorBackend(GenericBackendV2):  # type: ignore[misc]
    """A backend the official primitives treat as a simulator: no ISA checks in the way."""

    simulator = True

    def configuration(self) -> Any:
        return SimpleNamespace(simulator=True)


class _CapturedPost:
    def __init__(self) -> None:
        self.headers: dict[str, str] = {}
        self.body = ""

    def post(self, url: str, data: str, **kwargs: Any) -> Any:
        self.body = data

        class _Answer:
            @staticmethod
            def json() -> dict[str, str]:
                return {"id": "job", "backend": "b"}

        return _Answer()


@pytest.fixture
def official_body(monkeypatch: pytest.MonkeyPatch) -> Any:
    """Run an official V2 primitive and return the text of the POST /jobs body it would send."""
    captured: dict[str, Any] = {}

    def capture_run(self: Any, program_id: str, inputs: dict[str, Any], options: Any, **kw: Any):
        captured.update(program_id=program_id, inputs=inputs, options=options)

    monkeypatch.setattr(QiskitRuntimeLocalService, "_run", capture_run)
    backend = _SimulatorBackend(4)

    def run(kind: str, pubs: list[Any], options: dict[str, Any], **run_kwargs: Any) -> str | None:
        """The body text, or None when the official client refuses the input."""
        primitive_class = SamplerV2 if kind == "sampler" else EstimatorV2
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            try:
                primitive_class(mode=backend, options=options).run(pubs, **run_kwargs)
            except (ValueError, TypeError):
                return None
        job_options = captured["options"]
        session = _CapturedPost()
        Runtime(session).program_run(  # type: ignore[arg-type]
            program_id=captured["program_id"],
            backend_name="b",
            params=captured["inputs"],
            log_level=job_options.get("log_level"),
            job_tags=job_options.get("job_tags"),
            max_execution_time=job_options.get("max_execution_time"),
        )
        return session.body

    return run


def _our_body(kind: str, params: dict[str, Any], options: dict[str, Any]) -> str:
    environment = options.get("environment", {})
    body: dict[str, Any] = {
        "program_id": kind,
        "params": params,
        "log_level": environment.get("log_level", "WARNING"),
        "backend": "b",
    }
    if environment.get("job_tags"):
        body["tags"] = environment["job_tags"]
    if options.get("max_execution_time"):
        body["cost"] = options["max_execution_time"]
    return dumps(body)


# ---------------------------------------------------------------- generated job inputs

angles = st.floats(-7, 7, allow_nan=False, width=64)


@st.composite
def circuits(draw: st.DrawFn, num_qubits: int | None = None) -> QuantumCircuit:
    n = num_qubits or draw(st.integers(1, 3))
    circuit = QuantumCircuit(n)
    known: dict[str, Parameter] = {}
    for _ in range(draw(st.integers(0, 6))):
        gate = draw(st.sampled_from(["h", "x", "sx", "cx", "rz", "ry", "rz(p)", "ry(2p+1)"]))
        qubit = draw(st.integers(0, n - 1))
        if gate == "cx" and n > 1:
            circuit.cx(qubit, (qubit + 1) % n)
        elif gate in ("rz", "ry"):
            getattr(circuit, gate)(draw(angles), qubit)
        elif "p" in gate:
            name = draw(st.sampled_from(PARAMETER_NAMES))
            parameter = known.setdefault(name, Parameter(name))
            angle = parameter if gate == "rz(p)" else 2 * parameter + 1
            getattr(circuit, gate[:2])(angle, qubit)
        elif gate in ("h", "x", "sx"):
            getattr(circuit, gate)(qubit)
    if draw(st.booleans()):
        circuit.measure_all()
    else:
        register = ClassicalRegister(n, draw(st.sampled_from(["c", "alpha", "out_1"])))
        circuit.add_register(register)
        circuit.measure(range(n), register)
    if draw(st.booleans()):
        circuit.metadata = {"label": draw(st.text(max_size=5)), "n": n}
    return circuit


@st.composite
def parameter_values(draw: st.DrawFn, circuit: QuantumCircuit, shape: tuple[int, ...]) -> Any:
    k = circuit.num_parameters
    values = draw(hnp.arrays(np.float64, (*shape, k), elements=angles))
    form = draw(st.sampled_from(["array", "list", "tuple-key", "per-parameter"]))
    if form == "list":
        return values.tolist()
    if form == "tuple-key":
        return {tuple(circuit.parameters): values}
    if form == "per-parameter" and k:
        return {p: values[..., i] for i, p in enumerate(circuit.parameters)}
    return values


@st.composite
def sampler_pubs(draw: st.DrawFn) -> Any:
    circuit = draw(circuits())
    shape = draw(st.sampled_from([(), (2,), (2, 3)]))
    shots = draw(st.none() | st.integers(1, 10_000))
    if circuit.num_parameters == 0 and draw(st.booleans()):
        return circuit if shots is None else (circuit, None, shots)
    values = draw(parameter_values(circuit, shape if circuit.num_parameters else ()))
    return (circuit, values) if shots is None else (circuit, values, shots)


def _shuffled(draw: st.DrawFn, options: dict[str, Any]) -> dict[str, Any]:
    # the official client orders options by declaration, whatever order they were given in
    keys = draw(st.permutations(list(options)))
    return {
        k: _shuffled(draw, options[k]) if isinstance(options[k], dict) else options[k] for k in keys
    }


@st.composite
def sampler_options(draw: st.DrawFn) -> dict[str, Any]:
    chosen = draw(
        st.fixed_dictionaries(
            {},
            optional={
                "default_shots": st.integers(1, 100_000),
                "dynamical_decoupling": st.fixed_dictionaries(
                    {"enable": st.booleans()},
                    optional={"sequence_type": st.sampled_from(["XX", "XpXm", "XY4"])},
                ),
                "twirling": st.fixed_dictionaries(
                    {},
                    optional={
                        "enable_gates": st.booleans(),
                        "num_randomizations": st.integers(1, 64) | st.just("auto"),
                        "strategy": st.sampled_from(["active", "all"]),
                    },
                ),
                "execution": st.fixed_dictionaries(
                    {},
                    optional={
                        "init_qubits": st.booleans(),
                        "rep_delay": st.integers(1, 5) | st.floats(1e-6, 1e-3),
                        "meas_type": st.sampled_from(["classified", "kerneled"]),
                    },
                ),
                "simulator": st.fixed_dictionaries({"seed_simulator": st.integers(0, 99)}),
                "experimental": st.sampled_from(
                    [{"foo": 1}, {"twirling": {"strategy": "all"}}, {"image": "x:y", "bar": [1]}]
                ),
                "environment": st.fixed_dictionaries(
                    {"log_level": st.sampled_from(["INFO", "ERROR"])},
                    optional={"job_tags": st.lists(st.text("abc", min_size=1), max_size=2)},
                ),
                "max_execution_time": st.integers(1, 10_000),
            },
        )
    )
    return _shuffled(draw, chosen)


@PARITY
@given(
    pubs=st.lists(sampler_pubs(), min_size=1, max_size=3),
    shots=st.none() | st.integers(1, 5000),
    options=sampler_options(),
)
def test_sampler_job_body_is_the_official_text(
    official_body: Any, pubs: list[Any], shots: int | None, options: dict[str, Any]
) -> None:
    theirs = official_body("sampler", pubs, options, shots=shots)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        event("refused by both" if theirs is None else "same body")
        if theirs is None:
            with pytest.raises(InvalidInputError):
                sampler_params(pubs, shots=shots, options=options)
            return
        params = sampler_params(pubs, shots=shots, options=options)
    assert _our_body("sampler", params, options) == theirs


pauli_strings = st.text("IXYZ", min_size=3, max_size=3)


@st.composite
def observables(draw: st.DrawFn, count: int | None) -> Any:
    def one() -> Any:
        form = draw(st.sampled_from(["str", "op", "dict"]))
        if form == "str":
            return draw(pauli_strings)
        # distinct terms, coefficients away from 0: qiskit refuses an observable that is zero
        terms = draw(st.lists(pauli_strings, min_size=1, max_size=3, unique=True))
        coeff = st.floats(0.1, 2) | st.floats(-2, -0.1)
        coeffs = draw(st.lists(coeff, min_size=len(terms), max_size=len(terms)))
        if form == "dict":
            return dict(zip(terms, coeffs, strict=True))
        return SparsePauliOp(terms, coeffs)

    return one() if count is None else [one() for _ in range(count)]


@st.composite
def estimator_pubs(draw: st.DrawFn) -> Any:
    circuit = draw(circuits(num_qubits=3))
    circuit.remove_final_measurements()
    count = draw(st.none() | st.integers(1, 3))
    obs = draw(observables(count))
    pub: tuple[Any, ...] = (circuit, obs)
    if circuit.num_parameters or draw(st.booleans()):
        shapes = [(), (2,), (2, 3)] if count is None else [(), (count,), (2, 1)]
        shape = draw(st.sampled_from(shapes)) if circuit.num_parameters else ()
        pub += (draw(parameter_values(circuit, shape)),)
        if draw(st.booleans()):
            pub += (draw(st.floats(0.001, 0.5)),)
    return pub


@st.composite
def estimator_options(draw: st.DrawFn) -> dict[str, Any]:
    zne = st.fixed_dictionaries(
        {},
        optional={
            "noise_factors": st.lists(st.integers(1, 9), min_size=2, max_size=4),
            "extrapolator": st.sampled_from(["linear", "exponential", ("exponential", "linear")]),
        },
    )
    resilience = st.one_of(
        st.fixed_dictionaries(
            {"measure_mitigation": st.just(True)},
            optional={
                "measure_noise_learning": st.fixed_dictionaries(
                    {"num_randomizations": st.integers(1, 40)}
                )
            },
        ),
        st.fixed_dictionaries({"zne_mitigation": st.booleans()}, optional={"zne": zne}),
        st.fixed_dictionaries(
            {"pec_mitigation": st.booleans()},
            optional={"pec": st.fixed_dictionaries({"max_overhead": st.integers(1, 200)})},
        ),
    )
    chosen = draw(
        st.fixed_dictionaries(
            {},
            optional={
                "default_precision": st.floats(0.001, 0.5) | st.just(1),
                "default_shots": st.integers(0, 10_000) | st.none(),
                "resilience_level": st.integers(0, 2),
                "seed_estimator": st.integers(0, 99),
                "resilience": resilience,
                "twirling": st.fixed_dictionaries({"enable_measure": st.booleans()}),
                "experimental": st.just({"execution": {"fast_parity": True}}),
            },
        )
    )
    if chosen.get("resilience", {}).get("pec_mitigation"):
        # on a simulator the official client insists on a coupling map for PEC
        edges = [[0, 1], [1, 2]]
        chosen["simulator"] = {"coupling_map": draw(st.sampled_from([edges, CouplingMap(edges)]))}
    return _shuffled(draw, chosen)


@PARITY
@given(
    pubs=st.lists(estimator_pubs(), min_size=1, max_size=3),
    precision=st.none() | st.floats(0.001, 0.5),
    options=estimator_options(),
)
def test_estimator_job_body_is_the_official_text(
    official_body: Any, pubs: list[Any], precision: float | None, options: dict[str, Any]
) -> None:
    theirs = official_body("estimator", pubs, options, precision=precision)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        event("refused by both" if theirs is None else "same body")
        if theirs is None:  # e.g. observables and parameter values that do not broadcast
            with pytest.raises(InvalidInputError):
                estimator_params(pubs, precision=precision, options=options)
            return
        params = estimator_params(pubs, precision=precision, options=options)
    assert _our_body("estimator", params, options) == theirs


@PARITY
@given(circuit=circuits(), values=hnp.arrays(np.float64, hnp.array_shapes(max_dims=3)))
def test_circuits_and_arrays_encode_to_the_official_text(
    circuit: QuantumCircuit, values: np.ndarray
) -> None:
    document = {"circuit": circuit, "values": values, "parameters": circuit.parameters}
    assert dumps(document) == json.dumps(document, cls=RuntimeEncoder)


# ---------------------------------------------------------------- generated results

moments = st.datetimes(
    min_value=datetime(2024, 1, 1), max_value=datetime(2030, 1, 1), timezones=st.just(UTC)
)


@st.composite
def official_span(draw: st.DrawFn, pub_shapes: list[tuple[int, ...]]) -> Any:
    start = draw(moments)
    stop = start + timedelta(seconds=draw(st.floats(0, 100)))
    kind = draw(st.sampled_from(["double", "slice", "twirled", "twirled_v2"]))
    slices: dict[int, Any] = {}
    for index, shape in enumerate(pub_shapes):
        flat = int(np.prod(shape[:-1]))
        args = slice(0, draw(st.integers(0, flat)))
        shots = slice(draw(st.integers(0, shape[-1])), shape[-1])
        if kind == "double":
            slices[index] = (shape, args, shots)
        elif kind == "slice":
            slices[index] = (shape, slice(0, draw(st.integers(0, int(np.prod(shape))))))
        else:
            twirled = (2, *shape)
            item = (twirled, draw(st.booleans()), slice(0, 2 * flat), shots)
            slices[index] = (*item, shape[-1]) if kind == "twirled_v2" else item
    classes = {
        "double": official_spans.DoubleSliceSpan,
        "slice": official_spans.SliceSpan,
        "twirled": official_spans.TwirledSliceSpan,
        "twirled_v2": official_spans.TwirledSliceSpanV2,
    }
    return classes[kind](start, stop, slices)


@st.composite
def sampler_results(draw: st.DrawFn) -> PrimitiveResult:
    pub_results, span_shapes = [], []
    for _ in range(draw(st.integers(1, 3))):
        shape = draw(st.sampled_from([(), (2,), (2, 3)]))
        shots = draw(st.integers(1, 40))
        fields = {}
        for name in draw(st.sampled_from([["meas"], ["c0", "c1"]])):
            bits = draw(st.integers(1, 20))
            raw = draw(hnp.arrays(np.uint8, (*shape, shots, (bits + 7) // 8)))
            raw[..., 0] &= (1 << (bits % 8 or 8)) - 1  # no bits beyond num_bits
            fields[name] = BitArray(raw, bits)
        metadata = {"circuit_metadata": {"n": draw(st.integers(0, 5))}}
        pub_results.append(SamplerPubResult(DataBin(shape=shape, **fields), metadata=metadata))
        span_shapes.append((*shape, shots))
    spans = official_spans.ExecutionSpans(
        [draw(official_span(span_shapes)) for _ in range(draw(st.integers(0, 2)))]
    )
    metadata = {"execution": {"execution_spans": spans}, "version": 2, "at": draw(moments)}
    return PrimitiveResult(pub_results, metadata=metadata)


@st.composite
def estimator_results(draw: st.DrawFn) -> PrimitiveResult:
    pub_results = []
    for _ in range(draw(st.integers(1, 3))):
        shape = draw(st.sampled_from([(), (3,), (2, 2)]))
        evs = draw(hnp.arrays(np.float64, shape, elements=st.floats(-1, 1)))
        stds = draw(hnp.arrays(np.float64, shape, elements=st.floats(0, 1)))
        kind = draw(st.sampled_from([PubResult, OfficialEstimatorPubResult]))
        metadata = {"shots": 4096, "target_precision": 0.015, "resilience": {"z": 1 + 2j}}
        pub_results.append(kind(DataBin(shape=shape, evs=evs, stds=stds), metadata=metadata))
    return PrimitiveResult(pub_results, metadata={"version": 2, "twirling": {"enable": True}})


def _assert_same(ours: Any, theirs: Any) -> None:
    """Deep comparison of our decoded objects with the official decoder's."""
    if isinstance(theirs, official_spans.ExecutionSpans):
        assert isinstance(ours, result_types.ExecutionSpans)
        assert len(ours) == len(theirs)
        for our_span, their_span in zip(ours, theirs, strict=True):
            assert type(our_span).__name__ == type(their_span).__name__
            assert (our_span.start, our_span.stop) == (their_span.start, their_span.stop)
            assert our_span.pub_idxs == their_span.pub_idxs
            assert our_span.size == their_span.size
            for index in their_span.pub_idxs:
                np.testing.assert_array_equal(our_span.mask(index), their_span.mask(index))
        return
    assert type(ours).__name__ == type(theirs).__name__
    if isinstance(theirs, PrimitiveResult):
        assert len(ours) == len(theirs)
        for our_pub, their_pub in zip(ours, theirs, strict=True):
            _assert_same(our_pub, their_pub)
        _assert_same(ours.metadata, theirs.metadata)
    elif isinstance(theirs, PubResult):
        _assert_same(ours.data, theirs.data)
        _assert_same(ours.metadata, theirs.metadata)
    elif isinstance(theirs, DataBin):
        assert list(ours) == list(theirs)
        assert ours.shape == theirs.shape
        for name in theirs:
            _assert_same(ours[name], theirs[name])
    elif isinstance(theirs, BitArray):
        assert (ours.num_bits, ours.num_shots, ours.shape) == (
            theirs.num_bits,
            theirs.num_shots,
            theirs.shape,
        )
        np.testing.assert_array_equal(ours.array, theirs.array)
        assert ours.get_counts() == theirs.get_counts()
    elif isinstance(theirs, np.ndarray):
        assert (ours.dtype, ours.shape) == (theirs.dtype, theirs.shape)
        np.testing.assert_array_equal(ours, theirs)
    elif isinstance(theirs, dict):
        assert list(ours) == list(theirs)
        for key in theirs:
            _assert_same(ours[key], theirs[key])
    else:
        assert ours == theirs


@PARITY
@given(result=sampler_results())
def test_sampler_results_decode_like_the_official_decoder(result: PrimitiveResult) -> None:
    text = json.dumps(result, cls=RuntimeEncoder)
    _assert_same(loads(text), json.loads(text, cls=RuntimeDecoder))


@PARITY
@given(result=estimator_results())
def test_estimator_results_decode_like_the_official_decoder(result: PrimitiveResult) -> None:
    text = json.dumps(result, cls=RuntimeEncoder)
    _assert_same(loads(text), json.loads(text, cls=RuntimeDecoder))


@PARITY
@given(result=sampler_results())
def test_results_we_encode_decode_with_the_official_decoder(result: PrimitiveResult) -> None:
    # a result our local service writes must read back in the official client
    ours = loads(json.dumps(result, cls=RuntimeEncoder))
    text = dumps(ours)
    assert text == json.dumps(result, cls=RuntimeEncoder)
    _assert_same(loads(text), json.loads(text, cls=RuntimeDecoder))


def test_parameters_and_registers_survive_the_round_trip() -> None:
    theta = Parameter("θ")
    circuit = QuantumCircuit(QuantumRegister(2, "q"), ClassicalRegister(2, "out"))
    circuit.rx(theta, 0)
    circuit.measure([0, 1], [0, 1])
    text = json.dumps({"c": circuit, "p": theta}, cls=RuntimeEncoder)
    ours, theirs = loads(text), json.loads(text, cls=RuntimeDecoder)
    assert ours["c"] == theirs["c"] == circuit
    assert ours["p"] == theirs["p"] == theta


def test_other_typed_values_decode_like_the_official_decoder() -> None:
    from qiskit.circuit.library import RZZGate
    from qiskit.primitives.containers.bindings_array import BindingsArray
    from qiskit.primitives.containers.observables_array import ObservablesArray
    from qiskit.quantum_info import PauliLindbladMap
    from qiskit.result import Result

    result = Result.from_dict(
        {
            "backend_name": "b",
            "backend_version": "1",
            "qobj_id": "q",
            "job_id": "j",
            "success": True,
            "results": [],
        }
    )
    document = {
        "bindings": BindingsArray({("a", "b"): np.arange(6.0).reshape(3, 2)}),
        "observables": ObservablesArray([{"XZ": 1.0}, {"ZZ": -0.5}]),
        "instruction": RZZGate(0.3),
        "lindblad": PauliLindbladMap.from_list([("XX", 0.1), ("ZI", 0.2)]),
        "operator": SparsePauliOp(["XY"], [2.0]),
        "result": result,
        "misc": [1 + 1j, {3, 4}, np.arange(3)],
    }
    text = json.dumps(document, cls=RuntimeEncoder)
    ours, theirs = loads(text), json.loads(text, cls=RuntimeDecoder)
    assert ours["bindings"].shape == theirs["bindings"].shape == (3,)
    np.testing.assert_array_equal(
        ours["bindings"].as_array(["a", "b"]), theirs["bindings"].as_array(["a", "b"])
    )
    assert ours["observables"].tolist() == theirs["observables"].tolist()
    assert ours["instruction"] == theirs["instruction"] == RZZGate(0.3)
    assert ours["lindblad"] == theirs["lindblad"]
    assert ours["operator"] == theirs["operator"]
    assert ours["result"].to_dict() == theirs["result"].to_dict()
    assert ours["misc"][:2] == theirs["misc"][:2]
    np.testing.assert_array_equal(ours["misc"][2], theirs["misc"][2])
    assert dumps(ours["bindings"]) == json.dumps(theirs["bindings"], cls=RuntimeEncoder)
