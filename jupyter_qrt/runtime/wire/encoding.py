"""JSON text for the Qiskit Runtime API, byte for byte what the official client sends.

Objects travel as ``{"__type__": T, "__value__": V}``: circuits as QPY (capped at the version
the service reads), zlib, base64; arrays as ``.npy`` files, zlib, base64; parameters as their
QPY record; qiskit's primitive containers and result classes as nested JSON. The precedence of
the rules below matters where an object matches several (a ``to_json`` method wins over being a
circuit, ``settings`` is the catch-all for operators), and follows the official client's.

``sampler_params`` / ``estimator_params`` build the ``params`` of a ``POST /jobs`` body from the
pub-like inputs qiskit accepts; ``dumps({"program_id": ..., "params": ...})`` is then the body.
Importing this module imports qiskit.
"""

from __future__ import annotations

import binascii
import copy
import io
import json
import struct
import sys
import warnings
import zlib
from collections.abc import Callable
from datetime import date
from typing import Any

import numpy as np
import qiskit.qpy
from qiskit.circuit import Instruction, Parameter, QuantumCircuit, QuantumRegister
from qiskit.circuit.parametertable import ParameterView
from qiskit.primitives.containers import (
    BitArray,
    DataBin,
    PrimitiveResult,
    PubResult,
    SamplerPubResult,
)
from qiskit.primitives.containers.bindings_array import BindingsArray
from qiskit.primitives.containers.estimator_pub import EstimatorPub
from qiskit.primitives.containers.observables_array import ObservablesArray
from qiskit.primitives.containers.sampler_pub import SamplerPub
from qiskit.quantum_info import PauliLindbladMap
from qiskit.result import Result
from qiskit.transpiler import CouplingMap

from jupyter_qrt.runtime.errors import InvalidInputError
from jupyter_qrt.runtime.wire.npy import encode_npy
from jupyter_qrt.runtime.wire.pubs import estimator_params, sampler_params
from jupyter_qrt.runtime.wire.result_types import (
    EstimatorPubResult,
    ExecutionSpan,
    ExecutionSpans,
)

__all__ = [
    "QPY_VERSION_CAP",
    "WireEncoder",
    "dumps",
    "encode_circuit",
    "estimator_params",
    "sampler_params",
]


QPY_VERSION_CAP = 17
"""The newest QPY version the Qiskit Runtime service reads."""

# The noise-learner result classes of qiskit-ibm-runtime announce themselves by this module.
_NOISE_LEARNER_MODULE = "qiskit_ibm_runtime.results.noise_learner"
_LEGACY_NOISE_LEARNER_MODULE = "qiskit_ibm_runtime.utils.noise_learner_result"


def _default_qpy_version() -> int:
    return min(QPY_VERSION_CAP, int(qiskit.qpy.QPY_VERSION))


def _b64(data: bytes | memoryview) -> str:
    return binascii.b2a_base64(data, newline=False).decode("ascii")


def _checked_qpy_version(qpy_version: int | None) -> int:
    if qpy_version is None:
        return _default_qpy_version()
    lowest, newest = qiskit.qpy.QPY_COMPATIBILITY_VERSION, qiskit.qpy.QPY_VERSION
    if not isinstance(qpy_version, int) or not lowest <= qpy_version <= newest:
        raise InvalidInputError(
            f"qpy_version must be an integer from {lowest} to {newest} (what the installed "
            f"qiskit writes), not {qpy_version!r}; leave it out to use {_default_qpy_version()}."
        )
    return qpy_version


def encode_circuit(circuit: QuantumCircuit, qpy_version: int | None = None) -> str:
    """Return ``circuit`` as base64 text of zlib-compressed QPY.

    Parameters
    ----------
    circuit
        The circuit. Its ``metadata`` is written with :class:`WireEncoder`.
    qpy_version
        QPY version to write; default ``min(QPY_VERSION_CAP, qiskit.qpy.QPY_VERSION)``.
    """
    version = _checked_qpy_version(qpy_version)
    with io.BytesIO() as buffer:
        qiskit.qpy.dump(circuit, buffer, metadata_serializer=WireEncoder, version=version)
        return _b64(zlib.compress(buffer.getbuffer()))


def _encode_instruction(instruction: Instruction, qpy_version: int) -> str:
    # A lone instruction travels as the only instruction of a circuit.
    register = QuantumRegister(instruction.num_qubits)
    circuit = QuantumCircuit(register)
    circuit.append(instruction, register)
    return encode_circuit(circuit, qpy_version)


def _encode_parameter(parameter: Parameter) -> str:
    # The QPY PARAMETER record (name length, uuid, name), not compressed.
    name = parameter.name.encode("utf8")
    return _b64(struct.pack("!H16s", len(name), parameter.uuid.bytes) + name)


def _flag_int_keys(value: Any) -> Any:
    """Mark dicts with integer keys (JSON turns them into strings) so a decoder can undo it."""
    if isinstance(value, dict):
        for key, item in list(value.items()):
            if isinstance(key, int):
                value["__int_keys__"] = True
            _flag_int_keys(item)
    return value


def _typed(type_name: str, value: Any) -> dict[str, Any]:
    return {"__type__": type_name, "__value__": value}


def _span_slices(span: ExecutionSpan) -> dict[int, tuple[Any, ...]]:
    slices: dict[int, tuple[Any, ...]] = {}
    for idx, value in span.data_slices.items():
        flat: list[Any] = []
        for part in value:
            flat.extend((part.start, part.stop) if isinstance(part, slice) else (part,))
        slices[idx] = tuple(flat)
    return slices


class WireEncoder(json.JSONEncoder):
    """``json.JSONEncoder`` for the Runtime API's ``__type__``/``__value__`` convention.

    Parameters
    ----------
    qpy_version
        QPY version for circuits; default ``min(QPY_VERSION_CAP, qiskit.qpy.QPY_VERSION)``.
    *args, **kwargs
        As for :class:`json.JSONEncoder`.
    """

    def __init__(self, *args: Any, qpy_version: int | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.qpy_version = _checked_qpy_version(qpy_version)

    def default(self, o: Any) -> Any:
        """Return a JSON-ready stand-in for ``o`` (called for what ``json`` cannot write)."""
        for kind, encode in _PLAIN_RULES:
            if isinstance(o, kind):
                return encode(self, o)
        # anything else that can write itself does so, even a circuit
        if hasattr(o, "to_json"):
            return _typed("to_json", o.to_json())
        for kind, encode in _QISKIT_RULES:
            if isinstance(o, kind):
                return encode(self, o)
        return self._fallback(o)

    def _fallback(self, o: Any) -> Any:
        kind = type(o)
        if kind.__name__ == "NoiseModel" and kind.__module__.startswith("qiskit_aer"):
            # never imported here: if there is a NoiseModel, qiskit_aer is already loaded
            return _typed("NoiseModel", o.to_dict())
        if hasattr(o, "settings"):
            return {
                "__type__": "settings",
                "__module__": kind.__module__,
                "__class__": kind.__name__,
                "__value__": _flag_int_keys(copy.deepcopy(o.settings)),
            }
        if hasattr(o, "_json"):
            module = kind.__module__
            if module == _NOISE_LEARNER_MODULE:
                module = _LEGACY_NOISE_LEARNER_MODULE  # the name older decoders know
            return {
                "__type__": "_json",
                "__module__": module,
                "__class__": kind.__name__,
                "__value__": _flag_int_keys(copy.deepcopy(o._json())),
            }
        if callable(o):
            warnings.warn(
                f"Callable {o} cannot be sent to the Runtime API; it is sent as null.",
                UserWarning,
                stacklevel=2,
            )
            return None
        if "scipy" in sys.modules:
            from scipy.sparse import save_npz, spmatrix

            if isinstance(o, spmatrix):
                with io.BytesIO() as buffer:
                    save_npz(buffer, o)
                    return _typed("spmatrix", _b64(buffer.getbuffer()))
        raise InvalidInputError(
            f"Cannot send an object of type {kind.__module__}.{kind.__qualname__} to the Runtime "
            "API. Send circuits, numbers, arrays, qiskit primitive containers or plain "
            "dicts/lists of them (bind or drop anything else)."
        )


def _ndarray(encoder: WireEncoder, o: np.ndarray[Any, Any]) -> Any:
    if o.dtype == object:
        return _typed("ndarray", o.tolist())
    return _typed("ndarray", encode_npy(o))


def _numpy_scalar(encoder: WireEncoder, o: np.generic) -> Any:
    # The official client writes only int64 (as a plain int) and fails on other numpy scalars;
    # we write each as the Python number it stands for.
    value = o.item()
    return encoder.default(value) if isinstance(value, complex) else value


def _pub_result(type_name: str) -> Callable[[WireEncoder, Any], Any]:
    return lambda encoder, o: _typed(type_name, {"data": o.data, "metadata": o.metadata})


def _span(encoder: WireEncoder, o: ExecutionSpan) -> Any:
    value = {"start": o.start, "stop": o.stop, "data_slices": _span_slices(o)}
    return _typed(type(o).wire_type, value)


def _bindings(encoder: WireEncoder, o: BindingsArray) -> Any:
    data = {json.dumps(key, cls=WireEncoder): value for key, value in o.data.items()}
    return _typed("BindingsArray", {"shape": o.shape, "data": data})


_Rule = tuple[type | tuple[type, ...], Callable[[WireEncoder, Any], Any]]

# First match wins; the order matters where an object is several of these at once.
_PLAIN_RULES: tuple[_Rule, ...] = (
    (CouplingMap, lambda e, o: list(o)),
    (date, lambda e, o: _typed("datetime", o.isoformat())),
    (complex, lambda e, o: _typed("complex", [o.real, o.imag])),
    (np.ndarray, _ndarray),
    (np.generic, _numpy_scalar),
    (set, lambda e, o: _typed("set", list(o))),
    (Result, lambda e, o: _typed("Result", o.to_dict())),
)
_QISKIT_RULES: tuple[_Rule, ...] = (
    (QuantumCircuit, lambda e, o: _typed("QuantumCircuit", encode_circuit(o, e.qpy_version))),
    (Parameter, lambda e, o: _typed("Parameter", _encode_parameter(o))),
    (ParameterView, lambda e, o: o.data),
    (Instruction, lambda e, o: _typed("Instruction", _encode_instruction(o, e.qpy_version))),
    (ObservablesArray, lambda e, o: _typed("ObservablesArray", o.tolist())),
    (BindingsArray, _bindings),
    (BitArray, lambda e, o: _typed("BitArray", {"array": o.array, "num_bits": o.num_bits})),
    (
        DataBin,
        lambda e, o: _typed(
            "DataBin", {"field_names": list(o), "shape": o.shape, "fields": dict(o.items())}
        ),
    ),
    (
        EstimatorPub,
        lambda e, o: (
            o.circuit,
            o.observables.tolist(),
            o.parameter_values.as_array(o.circuit.parameters),
            o.precision,
        ),
    ),
    (
        SamplerPub,
        lambda e, o: (o.circuit, o.parameter_values.as_array(o.circuit.parameters), o.shots),
    ),
    (EstimatorPubResult, _pub_result("EstimatorPubResult")),
    (SamplerPubResult, _pub_result("SamplerPubResult")),
    (PubResult, _pub_result("PubResult")),
    (
        PrimitiveResult,
        lambda e, o: _typed("PrimitiveResult", {"pub_results": list(o), "metadata": o.metadata}),
    ),
    (ExecutionSpan, _span),
    (ExecutionSpans, lambda e, o: _typed("ExecutionSpans", {"spans": list(o)})),
    (
        PauliLindbladMap,
        lambda e, o: _typed(
            "PauliLindbladMap", {"paulis": o.to_sparse_list(), "num_qubits": o.num_qubits}
        ),
    ),
)


def dumps(obj: Any, *, qpy_version: int | None = None) -> str:
    """Return ``obj`` as JSON text for the Runtime API.

    The text equals ``json.dumps(obj, cls=qiskit_ibm_runtime.RuntimeEncoder)`` for everything
    that client can encode (numpy scalars other than ``int64``, which it rejects, are written as
    the Python numbers they stand for).

    Parameters
    ----------
    obj
        Anything JSON can hold plus circuits, parameters, numpy arrays and scalars, complex,
        sets, datetimes, qiskit primitive containers and results, and execution spans.
    qpy_version
        QPY version for circuits; default ``min(QPY_VERSION_CAP, qiskit.qpy.QPY_VERSION)``.

    Raises
    ------
    InvalidInputError
        For an object that has no Runtime API encoding.
    """
    return json.dumps(obj, cls=WireEncoder, qpy_version=qpy_version)
