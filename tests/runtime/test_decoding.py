"""Reading job results and other Runtime API JSON into qiskit objects."""

from __future__ import annotations

import base64
import io
import json
import sys
import zlib
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from qiskit.circuit import QuantumCircuit
from qiskit.primitives.containers import BitArray, DataBin, PrimitiveResult, SamplerPubResult
from qiskit.quantum_info import PauliList, SparsePauliOp

from jupyter_qrt.runtime.errors import InvalidInputError
from jupyter_qrt.runtime.wire.decoding import decode_result, loads
from jupyter_qrt.runtime.wire.encoding import dumps
from jupyter_qrt.runtime.wire.npy import decode_npy, encode_npy
from jupyter_qrt.runtime.wire.result_types import (
    DoubleSliceSpan,
    EstimatorPubResult,
    ExecutionSpans,
    SliceSpan,
    TwirledSliceSpan,
    TwirledSliceSpanV2,
)

DATA = Path(__file__).parent / "data"


def _result_text(name: str) -> str:
    """A result text as ``GET /jobs/{id}/results`` serves it (see data/README.md)."""
    return (DATA / name).read_text()


def _npy_text(array: np.ndarray, *, allow_pickle: bool = False) -> str:
    buffer = io.BytesIO()
    np.save(buffer, array, allow_pickle=allow_pickle)
    return base64.standard_b64encode(zlib.compress(buffer.getvalue())).decode()


def _typed_array(text: str) -> str:
    return json.dumps({"__type__": "ndarray", "__value__": text})


def test_a_captured_sampler_result_decodes_to_qiskit_objects() -> None:
    """A real result text (captured on the wire, data/sampler_bell_1000_shots.json) gives the
    counts, metadata and execution span the official client showed for it."""
    result = decode_result(_result_text("sampler_bell_1000_shots.json"))
    assert isinstance(result, PrimitiveResult)
    (pub,) = result
    assert isinstance(pub, SamplerPubResult)
    assert pub.data.meas.get_counts() == {"00": 480, "11": 520}
    assert pub.data.meas.num_shots == 1000
    assert pub.metadata == {"circuit_metadata": {}}
    spans = result.metadata["execution"]["execution_spans"]
    assert isinstance(spans, ExecutionSpans)
    (span,) = spans
    assert isinstance(span, DoubleSliceSpan)
    assert span.size == 1000
    assert span.pub_idxs == [0]
    assert span.start == datetime(2026, 11, 22, 3, 49, 20, 976041, tzinfo=UTC)
    assert "DoubleSliceSpan(<start='2026-11-22 03:49:20'" in repr(spans)
    assert result.metadata["version"] == 2


def test_an_estimator_result_decodes_to_the_expectation_values() -> None:
    """An estimator result text in IBM's layout gives the evs/stds a user reads, 0-d for a
    single observable. The text is not captured: the official ``RuntimeEncoder`` (0.51) wrote
    it for a known result (data/build_estimator_result.py, data/README.md)."""
    result = decode_result(_result_text("estimator_bell_zz_xx.json"))
    assert isinstance(result, PrimitiveResult)
    single, pair = result
    assert single.data.evs.shape == ()
    assert float(single.data.evs) == 0.9873046875
    assert float(single.data.stds) == 0.0024658203125
    assert single.metadata["shots"] == 4096
    assert single.metadata["target_precision"] == 0.015625
    assert pair.data.shape == (2,)
    np.testing.assert_array_equal(pair.data.evs, [0.9873046875, 0.96875])
    np.testing.assert_array_equal(pair.data.stds, [0.0024658203125, 0.00390625])
    assert result.metadata["version"] == 2
    assert result.metadata["twirling"]["enable_measure"] is True


def test_a_sampler_result_round_trips_through_our_encoder() -> None:
    bits = BitArray(np.array([[3], [0], [3]], dtype=np.uint8), 2)
    result = PrimitiveResult(
        [SamplerPubResult(DataBin(meas=bits), metadata={"n": 1})], metadata={"version": 2}
    )
    decoded = loads(dumps(result))
    assert decoded[0].data.meas.get_counts() == {"11": 2, "00": 1}
    assert decoded[0].metadata == {"n": 1}
    assert decoded.metadata == {"version": 2}


def test_estimator_pub_results_keep_their_wire_name() -> None:
    data = DataBin(evs=np.array(0.5), stds=np.array(0.01))
    decoded = loads(dumps(PrimitiveResult([EstimatorPubResult(data)])))
    assert type(decoded[0]) is EstimatorPubResult
    assert decoded[0].data.evs.shape == ()
    assert float(decoded[0].data.evs) == 0.5


def test_arrays_come_back_writable_in_their_dtype_shape_and_order() -> None:
    for array in [
        np.arange(12.0).reshape(3, 4),
        np.asfortranarray(np.arange(12).reshape(3, 4)),
        np.array(2.5),
        np.zeros((2, 0)),
        np.array([1 + 2j], dtype=">c16"),
        np.zeros(2, dtype=[("a", "<i4"), ("b", "<f8")]),
    ]:
        decoded = loads(_typed_array(_npy_text(array)))
        assert (decoded.dtype, decoded.shape) == (array.dtype, array.shape)
        np.testing.assert_array_equal(decoded, array)
        assert decoded.flags.writeable
        assert decoded.flags.f_contiguous == array.flags.f_contiguous


def test_list_and_scalar_arrays_and_extrapolator_names() -> None:
    assert loads('{"__type__": "ndarray", "__value__": [[1, 2]]}').shape == (1, 2)
    assert loads('{"__type__": "ndarray", "__value__": 3}').shape == ()
    assert loads('{"__type__": "ndarray", "__value__": "linear"}') == "linear"


def test_a_bit_array_sent_as_a_list_is_read_as_bytes() -> None:
    text = json.dumps(
        {
            "__type__": "BitArray",
            "__value__": {"array": {"__type__": "ndarray", "__value__": [[3], [1]]}, "num_bits": 2},
        }
    )
    assert loads(text).get_counts() == {"11": 1, "01": 1}


def test_a_pickled_array_is_refused_and_never_unpickled() -> None:
    pickled = _npy_text(np.array([{"x": 1}], dtype=object), allow_pickle=True)
    with pytest.raises(InvalidInputError, match=r"holds Python objects \(a pickle\)"):
        loads(_typed_array(pickled))


def _compressed(raw: bytes) -> str:
    return base64.standard_b64encode(zlib.compress(raw)).decode()


def _npy_file(header: str, data: bytes = b"", version: bytes = b"\x01\x00") -> bytes:
    return b"\x93NUMPY" + version + len(header).to_bytes(2, "little") + header.encode() + data


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("not base64!", "not base64"),
        (base64.b64encode(b"plain bytes").decode(), "not zlib data"),
        (_compressed(b"PK\x03\x04 not an npy file"), "no .npy magic"),
        (_compressed(_npy_file("{}", version=b"\x09\x00")), "format version 9.0"),
        (_compressed(_npy_file("__import__('os')")), "not a Python literal"),
        (_compressed(_npy_file("{'descr': '<f8'}")), "lacks descr/fortran_order/shape"),
        (
            _compressed(_npy_file("{'descr': '<f8', 'fortran_order': False, 'shape': (-1,)}")),
            "is not a tuple of sizes",
        ),
        (
            _compressed(_npy_file("{'descr': 'zz', 'fortran_order': False, 'shape': (1,)}")),
            "dtype 'zz' is not valid",
        ),
        (
            _compressed(_npy_file("{'descr': '<f8', 'fortran_order': False, 'shape': (2,)}", b"x")),
            "1 bytes of data where the header declares 16",
        ),
        (
            _compressed(
                _npy_file("{'descr': '|u1', 'fortran_order': False, 'shape': (1,)}", b"xy")
            ),
            "more data than its header declares",
        ),
        (_compressed(b"\x93NUMPY\x01\x00\xff\xff"), "header claims 65535 bytes"),
        (_compressed(b"\x93NUMPY\x01\x00\x10\x00{'de"), "ends inside the .npy header"),
        (_compressed(encode_npy(np.arange(3)).encode())[:-8] + "AAAAAAAA", "not zlib data"),
    ],
)
def test_malformed_arrays_get_one_clear_error(text: str, message: str) -> None:
    with pytest.raises(InvalidInputError, match=message):
        loads(_typed_array(text))


def test_truncated_array_streams_are_refused() -> None:
    raw = zlib.compress(
        _npy_file("{'descr': '|u1', 'fortran_order': False, 'shape': (4,)}", b"abcd")
    )
    with pytest.raises(InvalidInputError, match="truncated"):
        decode_npy(base64.standard_b64encode(raw[:-6]).decode())


def test_base64_with_line_breaks_still_decodes() -> None:
    buffer = io.BytesIO()
    np.save(buffer, np.arange(300.0))
    wrapped = base64.encodebytes(zlib.compress(buffer.getvalue())).decode()
    assert "\n" in wrapped
    np.testing.assert_array_equal(decode_npy(wrapped), np.arange(300.0))


def test_datetimes_complex_sets_and_circuits() -> None:
    circuit = QuantumCircuit(1)
    circuit.x(0)
    document = json.loads(dumps({"c": circuit, "z": 2 - 1j, "s": {1, 2}}))
    document["t"] = {"__type__": "datetime", "__value__": "2026-11-22T03:49:20Z"}
    decoded = loads(json.dumps(document))
    assert decoded["c"] == circuit
    assert decoded["z"] == 2 - 1j
    assert decoded["s"] == {1, 2}
    assert decoded["t"] == datetime(2026, 11, 22, 3, 49, 20, tzinfo=UTC)


def test_a_circuit_from_a_newer_qiskit_asks_for_an_upgrade() -> None:
    qpy = bytearray(
        zlib.decompress(
            base64.standard_b64decode(json.loads(dumps(QuantumCircuit(1)))["__value__"])
        )
    )
    qpy[6] = 200
    text = json.dumps({"__type__": "QuantumCircuit", "__value__": _compressed(bytes(qpy))})
    with pytest.raises(InvalidInputError, match="pip install -U qiskit"):
        loads(text)


def test_operator_settings_are_rebuilt_only_from_qiskit_operators() -> None:
    op = SparsePauliOp(["XZ", "YY"], [1, 2j])
    assert loads(dumps(op)) == op
    assert loads(dumps(PauliList(["X", "Z"]))) == PauliList(["X", "Z"])
    foreign = {
        "__type__": "settings",
        "__module__": "not_a_module_xyz",
        "__class__": "Evil",
        "__value__": {"a": 1},
    }
    assert loads(json.dumps(foreign)) == foreign
    assert "not_a_module_xyz" not in sys.modules


def test_unknown_types_stay_as_they_came() -> None:
    unknown = {"__type__": "SomethingNew", "__value__": {"x": 1}}
    assert loads(json.dumps({"a": unknown})) == {"a": unknown}
    assert loads('{"__type__": "to_json", "__value__": {"k": 1}}') == {"k": 1}


def test_a_body_that_is_not_json_comes_back_as_text() -> None:
    assert decode_result("Job finished, see logs") == "Job finished, see logs"
    assert decode_result(b"plain \xff") == "plain \ufffd"
    with pytest.raises(json.JSONDecodeError):
        loads("not json")


def _moment(seconds: float) -> datetime:
    return datetime(2026, 1, 1, tzinfo=UTC) + timedelta(seconds=seconds)


def test_execution_spans_report_what_each_window_produced() -> None:
    first = DoubleSliceSpan(_moment(0), _moment(2), {0: ((2, 10), slice(0, 1), slice(0, 10))})
    second = SliceSpan(
        _moment(1), _moment(5), {0: ((2, 10), slice(10, 20)), 1: ((4,), slice(0, 4))}
    )
    spans = ExecutionSpans([second, first])
    assert spans.pub_idxs == [0, 1]
    assert spans.duration == 5.0
    assert [span.size for span in spans] == [14, 10]
    assert spans.sort(inplace=False)[0] is first
    np.testing.assert_array_equal(first.mask(0), [[True] * 10, [False] * 10])
    assert not first.contains_pub(1)
    assert second.contains_pub([1, 7])
    assert spans.filter_by_pub(1)[1].pub_idxs == []
    with pytest.raises(KeyError):
        first.mask(1)
    assert loads(dumps(spans)) == spans


def test_twirled_spans_merge_randomisations_into_shots() -> None:
    twirled = TwirledSliceSpan(
        _moment(0), _moment(1), {0: ((3, 2, 4), True, slice(0, 2), slice(0, 4))}
    )
    mask = twirled.mask(0)
    assert mask.shape == (2, 12)
    assert mask.sum() == twirled.size == 8
    v2 = TwirledSliceSpanV2(
        _moment(0), _moment(1), {0: ((3, 2, 4), True, slice(0, 2), slice(0, 4), 10)}
    )
    assert v2.mask(0).shape == (2, 10)
    assert loads(dumps(ExecutionSpans([twirled, v2]))) == ExecutionSpans([twirled, v2])


def test_large_results_decode_without_a_pickle_or_a_copy_per_step() -> None:
    bits = np.random.default_rng(5).integers(0, 256, size=(20_000, 16), dtype=np.uint8)
    bits[:, 0] &= 0x7F
    result = PrimitiveResult([SamplerPubResult(DataBin(meas=BitArray(bits, 127)))])
    decoded: Any = loads(dumps(result))
    np.testing.assert_array_equal(decoded[0].data.meas.array, bits)
    assert decoded[0].data.meas.num_bits == 127


@pytest.mark.parametrize(
    ("text", "type_name"),
    [
        (
            '{"__type__": "settings", "__module__": "qiskit.quantum_info.operators", '
            '"__class__": "SparsePauliOp", "__value__": {"data": ["%%%"]}}',
            "settings",
        ),
        (
            '{"__type__": "settings", "__module__": "qiskit.quantum_info.operators", '
            '"__class__": "SparsePauliOp", "__value__": [1, 2]}',
            "settings",
        ),
        ('{"__type__": "spmatrix", "__value__": "%%%"}', "spmatrix"),
        ('{"__type__": "spmatrix", "__value__": "bm90IGEgemlw"}', "spmatrix"),
    ],
)
def test_malformed_settings_and_sparse_matrices_get_one_clear_error(
    text: str, type_name: str
) -> None:
    with pytest.raises(InvalidInputError, match=f"Cannot decode a '{type_name}' value"):
        loads(text)


# ------------------------------------------------------------------ payloads that inflate far
def _zeros_b64_zlib(head: bytes, zeros: int) -> str:
    return base64.b64encode(zlib.compress(head + bytes(zeros), 9)).decode("ascii")


def test_payloads_inflating_past_the_limit_are_refused_before_they_are_inflated() -> None:
    from jupyter_qrt.runtime.errors import PayloadTooLargeError

    limit = 1 << 20
    circuit_bomb = {"__type__": "QuantumCircuit", "__value__": _zeros_b64_zlib(b"", 8 << 20)}
    header = io.BytesIO()
    np.lib.format.write_array_header_1_0(
        header, {"descr": "<f8", "fortran_order": False, "shape": (1 << 20,)}
    )
    array_bomb = {
        "__type__": "ndarray",
        "__value__": _zeros_b64_zlib(header.getvalue(), 8 << 20),
    }
    for bomb in (circuit_bomb, array_bomb):
        with pytest.raises(PayloadTooLargeError, match=f"{limit} bytes") as caught:
            loads(json.dumps([bomb]), max_inflated_bytes=limit)
        assert caught.value.limit == limit
    # The limit counts every payload of the document together.
    small = dumps([np.zeros(1000), np.zeros(1000)])  # 8000 bytes each
    assert len(loads(small, max_inflated_bytes=20_000)) == 2
    with pytest.raises(PayloadTooLargeError):
        loads(small, max_inflated_bytes=12_000)
    assert len(loads(small)) == 2  # no limit unless asked


def test_a_circuit_payload_without_a_circuit_says_so() -> None:
    import qiskit.qpy

    buffer = io.BytesIO()
    qiskit.qpy.dump([], buffer)
    value = base64.b64encode(zlib.compress(buffer.getvalue())).decode("ascii")
    for type_name in ("QuantumCircuit", "Instruction"):
        with pytest.raises(InvalidInputError, match="holds no circuit"):
            loads(json.dumps({"__type__": type_name, "__value__": value}))
