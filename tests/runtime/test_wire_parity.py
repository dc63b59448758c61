"""Our wire encoding against qiskit-ibm-runtime's, on generated inputs.

Circuits and arrays must encode to the official ``RuntimeEncoder``'s text; results encoded by the
official ``RuntimeEncoder`` must decode with our ``loads`` to what ``RuntimeDecoder`` gives. The
job bodies both clients send over HTTP are compared in ``test_wire_parity_jobs.py``.
"""

from __future__ import annotations

import json
import warnings
from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np
from hypothesis import HealthCheck, given, settings
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
from qiskit.quantum_info import SparsePauliOp

from jupyter_qrt.runtime.wire import result_types
from jupyter_qrt.runtime.wire.decoding import loads
from jupyter_qrt.runtime.wire.encoding import dumps

from .wire_inputs import circuits

with warnings.catch_warnings():
    warnings.simplefilter("ignore", DeprecationWarning)
    from qiskit_ibm_runtime import RuntimeDecoder, RuntimeEncoder
    from qiskit_ibm_runtime import execution_span as official_spans
    from qiskit_ibm_runtime.results import EstimatorPubResult as OfficialEstimatorPubResult

PARITY = settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)


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
