"""Read Runtime API JSON (``{"__type__": T, "__value__": V}``) back into qiskit objects.

Everything the official client's decoder turns into objects for sampler and estimator jobs
comes back as the same qiskit class (``PrimitiveResult``, ``SamplerPubResult``, ``PubResult``,
``DataBin``, ``BitArray``, circuits, ...); the few classes only qiskit-ibm-runtime has
(execution spans, ``EstimatorPubResult``) come back as ours from
:mod:`jupyter_qrt.runtime.wire.result_types`. A ``__type__`` we do not know is left as the dict it
was, as the official decoder leaves it.

Arrays are read by :mod:`jupyter_qrt.runtime.wire.npy` without the intermediate copies (and never
unpickled), so a large sampler result decodes faster and in less memory than with the official
decoder. Importing this module imports qiskit.

Circuits and arrays travel zlib-compressed, so a few kilobytes of JSON may inflate to gigabytes.
``loads(text, max_inflated_bytes=n)`` inflates at most ``n`` bytes for the whole document (a
budget kept in a context variable while it runs) and raises :class:`PayloadTooLargeError` past
it, before the memory is taken: use it on payloads from others (the local service's workers do).
"""

from __future__ import annotations

import binascii
import importlib
import io
import json
import uuid
import zipfile
import zlib
from collections.abc import Callable
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import numpy as np
import qiskit.qpy
from qiskit.circuit import Parameter, QuantumCircuit
from qiskit.exceptions import QiskitError
from qiskit.primitives.containers import (
    BitArray,
    DataBin,
    PrimitiveResult,
    PubResult,
    SamplerPubResult,
)
from qiskit.primitives.containers.bindings_array import BindingsArray
from qiskit.primitives.containers.observables_array import ObservablesArray
from qiskit.quantum_info import PauliLindbladMap
from qiskit.result import Result

from jupyter_qrt.runtime.errors import InvalidInputError, PayloadTooLargeError
from jupyter_qrt.runtime.wire.npy import decode_npy
from jupyter_qrt.runtime.wire.result_types import (
    DoubleSliceSpan,
    EstimatorPubResult,
    ExecutionSpans,
    SliceSpan,
    TwirledSliceSpan,
    TwirledSliceSpanV2,
)

__all__ = ["decode_result", "loads"]


# A ZNE option value that older services wrapped as an "ndarray"; it stays a string.
_EXTRAPOLATOR_NAMES = frozenset(
    {"linear", "exponential", "double_exponential", "fallback"}
    | {f"polynomial_degree_{k}" for k in range(1, 8)}
)
# "settings" objects are rebuilt only from qiskit's operator classes, never from any module.
_SETTINGS_MODULE_PREFIX = "qiskit.quantum_info.operators"


@dataclass
class _InflateBudget:
    """Bytes the compressed payloads of one ``loads`` call may still inflate to."""

    limit: int
    used: int = 0

    @property
    def remaining(self) -> int:
        return max(self.limit - self.used, 0)

    def too_large(self, what: str) -> PayloadTooLargeError:
        return PayloadTooLargeError(
            f"The {what} payload inflates to more than the {self.remaining} bytes left of the "
            f"{self.limit} bytes its document may inflate to.",
            self.limit,
        )


_BUDGET: ContextVar[_InflateBudget | None] = ContextVar("qrt_inflate_budget", default=None)


def _bad(type_name: str, why: str) -> InvalidInputError:
    return InvalidInputError(
        f"Cannot decode a {type_name!r} value from the Runtime API: {why}. The job result or "
        "payload is malformed; check what produced it."
    )


def _datetime(value: Any) -> Any:
    try:
        return datetime.fromisoformat(value)
    except (TypeError, ValueError):
        pass
    try:  # dateutil reads the odd non-ISO timestamp; use it when it is there
        from dateutil import parser  # type: ignore[import-untyped,unused-ignore]
    except ImportError as exc:
        raise _bad("datetime", f"{value!r} is not an ISO 8601 timestamp") from exc
    try:
        return parser.parse(value)
    except (TypeError, ValueError, OverflowError) as exc:
        raise _bad("datetime", f"{value!r} is not a timestamp") from exc


def _ndarray(value: Any) -> Any:
    if isinstance(value, str):
        if value in _EXTRAPOLATOR_NAMES:
            return value
        budget = _BUDGET.get()
        if budget is None:
            return decode_npy(value, where="'ndarray' payload")
        array = decode_npy(value, where="'ndarray' payload", max_bytes=budget.remaining)
        budget.used += array.nbytes
        return array
    if isinstance(value, list | int | float | bool):
        return np.array(value)
    raise _bad("ndarray", f"a {type(value).__name__} is neither base64 text nor a list")


def _qpy_circuit(value: Any, type_name: str) -> QuantumCircuit:
    if not isinstance(value, str):
        raise _bad(type_name, "the value is not base64 text")
    try:
        compressed = binascii.a2b_base64(value)
    except (binascii.Error, ValueError) as exc:
        raise _bad(type_name, f"not base64 of zlib data ({exc})") from exc
    try:
        data = _inflate(compressed, type_name)  # PayloadTooLargeError goes up as it is
    except zlib.error as exc:
        raise _bad(type_name, f"not base64 of zlib data ({exc})") from exc
    if len(data) > 6 and data[6] > qiskit.qpy.QPY_VERSION:
        raise InvalidInputError(
            f"This {type_name} was written with QPY version {data[6]}, newer than the installed "
            f"qiskit reads ({qiskit.qpy.QPY_VERSION}). Upgrade qiskit: pip install -U qiskit"
        )
    try:
        circuits = qiskit.qpy.load(io.BytesIO(data))
    except Exception as exc:  # QPY raises many kinds on corrupt data
        raise _bad(type_name, f"not a QPY file ({exc})") from exc
    if not circuits:
        raise _bad(type_name, "its QPY file holds no circuit")
    circuit: QuantumCircuit = circuits[0]
    return circuit


def _inflate(compressed: bytes, type_name: str) -> bytes:
    """``zlib.decompress(compressed)``, within the budget of the current ``loads`` call."""
    budget = _BUDGET.get()
    if budget is None:
        return zlib.decompress(compressed)
    inflater = zlib.decompressobj()
    # One byte over the budget is enough to know it does not fit; zlib stops there.
    data = inflater.decompress(compressed, budget.remaining + 1)
    if len(data) > budget.remaining:
        raise budget.too_large(type_name)
    if not inflater.eof:
        raise zlib.error("incomplete or truncated stream")
    budget.used += len(data)
    return data


def _instruction(value: Any) -> Any:
    data = _qpy_circuit(value, "Instruction").data
    if not data:
        raise _bad("Instruction", "its QPY circuit holds no instruction")
    return data[0].operation


def _parameter(value: Any) -> Parameter:
    try:
        data = binascii.a2b_base64(value)
        name_size = int.from_bytes(data[:2], "big")
        if len(data) != 18 + name_size:
            raise ValueError("wrong length")
        return Parameter(data[18:].decode("utf8"), uuid=uuid.UUID(bytes=data[2:18]))
    except (binascii.Error, ValueError, TypeError) as exc:
        raise _bad("Parameter", "not a QPY parameter record") from exc


def _unflag_int_keys(value: Any) -> Any:
    """Undo the encoder's ``__int_keys__`` marking: numeric string keys become ints again."""
    if isinstance(value, dict):
        flagged = value.pop("__int_keys__", False)
        for key in list(value):
            _unflag_int_keys(value[key])
            if flagged and isinstance(key, str):
                try:
                    number = int(key)
                except ValueError:
                    continue
                value[number] = value.pop(key)
    return value


def _settings(obj: dict[str, Any]) -> Any:
    module_name, class_name = obj.get("__module__"), obj.get("__class__")
    if not (isinstance(module_name, str) and module_name.startswith(_SETTINGS_MODULE_PREFIX)):
        return obj
    try:
        cls = getattr(importlib.import_module(module_name), str(class_name))
    except (ImportError, AttributeError) as exc:
        raise _bad("settings", f"qiskit has no {module_name}.{class_name}") from exc
    if not isinstance(cls, type):
        raise _bad("settings", f"{module_name}.{class_name} is not a class")
    return cls(**_unflag_int_keys(obj["__value__"]))


def _bindings(value: dict[str, Any]) -> BindingsArray:
    data = value.get("data")
    kwargs: dict[str, Any] = {"shape": value.get("shape")}
    if isinstance(data, dict):
        # The keys are JSON text of parameter lists: decoded within the same budget.
        kwargs["data"] = {
            tuple(json.loads(key, object_hook=_object_hook)): array for key, array in data.items()
        }
    elif data:
        raise _bad("BindingsArray", f"its data is a {type(data).__name__}, not a dict")
    return BindingsArray(**kwargs)


def _bit_array(value: dict[str, Any]) -> BitArray:
    array = value["array"]
    if isinstance(array, np.ndarray) and array.dtype != np.uint8 and array.dtype.kind in "iu":
        # a list-form array arrives as int64; bytes are what it means
        if array.size and (array.min() < 0 or array.max() > 255):
            raise _bad("BitArray", "its array holds values that are not bytes")
        array = array.astype(np.uint8)
    return BitArray(array, value["num_bits"])


def _data_bin(value: dict[str, Any]) -> DataBin:
    shape = value["shape"]
    return DataBin(shape=tuple(shape) if isinstance(shape, list) else shape, **value["fields"])


def _spans_of(
    span_class: type[Any], slices: Callable[[list[Any]], tuple[Any, ...]]
) -> Callable[[dict[str, Any]], Any]:
    def decode(value: dict[str, Any]) -> Any:
        data_slices = {int(idx): slices(item) for idx, item in value["data_slices"].items()}
        return span_class(value["start"], value["stop"], data_slices)

    return decode


def _pauli_lindblad_map(value: dict[str, Any]) -> PauliLindbladMap:
    terms = [tuple(term) for term in value["paulis"]]
    return PauliLindbladMap.from_sparse_list(terms, num_qubits=value["num_qubits"])


# __type__ -> decoder of __value__
_VALUE_DECODERS: dict[str, Callable[[Any], Any]] = {
    "datetime": _datetime,
    "complex": lambda v: v[0] + 1j * v[1],
    "ndarray": _ndarray,
    "set": set,
    "QuantumCircuit": lambda v: _qpy_circuit(v, "QuantumCircuit"),
    "Parameter": _parameter,
    "Instruction": _instruction,
    "Result": Result.from_dict,
    "ObservablesArray": ObservablesArray,
    "BindingsArray": _bindings,
    "BitArray": _bit_array,
    "DataBin": _data_bin,
    "EstimatorPubResult": lambda v: EstimatorPubResult(**v),
    "SamplerPubResult": lambda v: SamplerPubResult(**v),
    "PubResult": lambda v: PubResult(**v),
    "PrimitiveResult": lambda v: PrimitiveResult(**v),
    "DoubleSliceSpan": _spans_of(
        DoubleSliceSpan, lambda s: (tuple(s[0]), slice(s[1], s[2]), slice(s[3], s[4]))
    ),
    "TwirledSliceSpanV2": _spans_of(
        TwirledSliceSpanV2,
        lambda s: (tuple(s[0]), s[1], slice(s[2], s[3]), slice(s[4], s[5]), s[6]),
    ),
    "TwirledSliceSpan": _spans_of(
        TwirledSliceSpan, lambda s: (tuple(s[0]), s[1], slice(s[2], s[3]), slice(s[4], s[5]))
    ),
    "ExecutionSpan": _spans_of(SliceSpan, lambda s: (tuple(s[0]), slice(*s[1:]))),
    "ExecutionSpans": lambda v: ExecutionSpans(v["spans"]),
    # the name the service used before ExecutionSpans
    "ExecutionSpanCollection": lambda v: ExecutionSpans(v["spans"]),
    "PauliLindbladMap": _pauli_lindblad_map,
    "to_json": lambda v: v,
    # qiskit_aer is not ours to import: a noise model stays its dict (NoiseModel.from_dict)
    "NoiseModel": lambda v: v,
}


def _spmatrix(value: Any) -> Any:
    from scipy.sparse import load_npz  # a dependency of qiskit

    try:
        return load_npz(io.BytesIO(binascii.a2b_base64(value)))
    except (OSError, EOFError, zipfile.BadZipFile, binascii.Error) as exc:
        raise _bad("spmatrix", str(exc) or type(exc).__name__) from exc


_VALUE_DECODERS["spmatrix"] = _spmatrix


def _object_hook(obj: dict[str, Any]) -> Any:
    type_name = obj.get("__type__")
    if type_name is None or "__value__" not in obj:
        return obj
    decode = _VALUE_DECODERS.get(type_name) if isinstance(type_name, str) else None
    if decode is None and type_name != "settings":
        return obj
    try:
        return _settings(obj) if decode is None else decode(obj["__value__"])
    except InvalidInputError:
        raise
    except (TypeError, ValueError, KeyError, IndexError, AttributeError, QiskitError) as exc:
        raise _bad(type_name, str(exc) or type(exc).__name__) from exc


def loads(text: str | bytes, *, max_inflated_bytes: int | None = None) -> Any:
    """Decode Runtime API JSON into Python and qiskit objects.

    Parameters
    ----------
    text
        JSON text as the service or :func:`jupyter_qrt.runtime.wire.encoding.dumps` writes it.
    max_inflated_bytes
        Most bytes the compressed circuits and arrays inside may inflate to, all together
        (None: no limit). Checked before the memory is taken.

    Returns
    -------
    Any
        The decoded value: e.g. a ``qiskit.primitives.PrimitiveResult`` for a job result.

    Raises
    ------
    json.JSONDecodeError
        If ``text`` is not JSON.
    InvalidInputError
        If a typed value inside is malformed (bad base64, a pickled array, a corrupt circuit).
    PayloadTooLargeError
        If the payloads inflate to more than ``max_inflated_bytes`` (a subclass of the above).
    """
    budget = None if max_inflated_bytes is None else _InflateBudget(max_inflated_bytes)
    token = _BUDGET.set(budget)
    try:
        return json.loads(text, object_hook=_object_hook)
    finally:
        _BUDGET.reset(token)


def decode_result(text: str | bytes) -> Any:
    """Decode the body of ``GET /jobs/{id}/results``.

    A body that is not JSON (some programs return plain text) comes back as that text, as the
    official client's ``ResultDecoder`` does.
    """
    if isinstance(text, bytes):
        try:
            body = text.decode("utf-8")
        except UnicodeDecodeError:
            return text.decode("utf-8", "replace")
    else:
        body = text
    try:
        return loads(body)
    except json.JSONDecodeError:
        return body
