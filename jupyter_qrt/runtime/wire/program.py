"""The executor program on the wire: a samplomatic ``QuantumProgram`` to ``params``, and back.

IBM's data model of the executor is the ``executor/version_2_0`` schema of ``ibm-quantum-schemas``
(pydantic models) over samplomatic's ``QuantumProgram``. :func:`executor_params` builds the
schema's ``ParamsModel`` from a program and the executor's options exactly as qiskit-ibm-runtime's
``quantum_program_to_2_0`` does, and returns its ``model_dump(mode="json")``: the job body's
``params``, identical to the official client's. :func:`decode_program_result` reads a
``QuantumProgramResultModel`` (the text of ``GET /jobs/{id}/results``) into a
:class:`~.program_result.QuantumProgramResult`, as the official ``ExecutorResultDecoder`` does.

What the official converter does, and so do we (the parity tests hold both to it):

- all circuits, in item order, go into ONE ``CompressedQpyDataModel`` (zlib'd QPY, base64) at
  the installed qiskit's newest QPY version, with samplomatic's annotation serializer;
- a circuit item sends ``circuit_arguments`` as a float64 tensor and ``shape: []`` (item shapes
  are "not yet supported" for circuit items: the sweep shape is the arguments' leading axes); a
  samplex item sends the samplex as JSON at samplomatic's newest SSV, its bound arguments
  (tensors as they are: a float32 array stays ``f32``; Pauli Lindblad maps as sparse terms) and
  its shape;
- ``chunk_size`` ``None`` is ``"auto"``;
- ``passthrough_data`` keeps its nesting, arrays become tensors of their own dtype;
- the options are the four execution options with their defaults written out, and
  ``experimental`` (``{}`` when unset).

Importing this module imports samplomatic, ibm-quantum-schemas, pydantic and qiskit: it is
imported only when an executor job is built or its result decoded.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Any, TypeVar

import numpy as np
import qiskit.qpy
from ibm_quantum_schemas.common import (
    CompressedQpyDataModel,
    CompressedTensorModel,
    F64CompressedTensorModel,
    PauliLindbladMapModel,
    SamplexModel,
)
from ibm_quantum_schemas.executor.version_2_0 import (
    CircuitItemModel,
    OptionsModel,
    ParamsModel,
    QuantumProgramModel,
    QuantumProgramResultModel,
    SamplexItemModel,
)
from ibm_quantum_schemas.executor.version_2_0.models import DataTree
from pydantic import TypeAdapter, ValidationError
from samplomatic.quantum_program import (
    ChunkPart,
    ChunkSpan,
    CircuitItem,
    QuantumProgram,
    SamplexItem,
)
from samplomatic.ssv import SSV
from samplomatic.tensor_interface import PauliLindbladMapSpecification, TensorSpecification

from jupyter_qrt.runtime.errors import InvalidInputError

from .program_result import (
    ItemMetadata,
    Metadata,
    QuantumProgramItemResult,
    QuantumProgramResult,
    SchedulerTiming,
    StretchValues,
)

__all__ = [
    "SCHEMA_VERSION",
    "check_program",
    "decode_program_result",
    "executor_params",
]

SCHEMA_VERSION = "v2.0"
"""The executor schema version this client writes and reads (qiskit-ibm-runtime 0.51's)."""

# The execution options the program takes, with the schema's defaults, in its order.
_EXECUTION_DEFAULTS: dict[str, Any] = {
    "init_qubits": True,
    "rep_delay": None,
    "scheduler_timing": False,
    "stretch_values": False,
}
_HOW_TO_BUILD = (
    "Build one with `from samplomatic.quantum_program import QuantumProgram; "
    "program = QuantumProgram(shots=1000); program.append_circuit_item(isa_circuit, "
    "circuit_arguments)` (or append_samplex_item(template, samplex) for a samplomatic.build() "
    "pair)."
)

_T = TypeVar("_T")


def check_program(program: Any) -> QuantumProgram:
    """Return ``program`` if the executor can run it: a samplomatic ``QuantumProgram`` with at
    least one item, each a ``CircuitItem`` or a ``SamplexItem``.

    Raises
    ------
    InvalidInputError
        Saying what the program lacks and how to build one.
    """
    if not isinstance(program, QuantumProgram):
        raise InvalidInputError(
            f"Executor.run() takes a samplomatic QuantumProgram, not {type(program).__name__}. "
            + _HOW_TO_BUILD
        )
    if not program.items:
        raise InvalidInputError(
            "The QuantumProgram has no items, so there is nothing to run. " + _HOW_TO_BUILD
        )
    for index, item in enumerate(program.items):
        if not isinstance(item, CircuitItem | SamplexItem):
            raise InvalidInputError(
                f"Item {index} of the QuantumProgram is a {type(item).__name__}; the executor "
                "runs CircuitItem and SamplexItem items. Add items with "
                "program.append_circuit_item() or program.append_samplex_item()."
            )
    return program


def _schema_error(where: str, exc: ValidationError) -> InvalidInputError:
    first = exc.errors()[0]
    location = ".".join(str(part) for part in first["loc"])
    field = f"{where}.{location}" if location else where
    value = first.get("input")
    got = f" (got {value!r:.80})" if isinstance(value, str | int | float | None) else ""
    message = str(first["msg"]).removeprefix("Value error, ").rstrip(".")
    return InvalidInputError(
        f"The QuantumProgram cannot be sent to the executor: {field}: {message}{got}. "
        "Fix that value of the program and run it again."
    )


@functools.cache
def _data_tree() -> Any:
    return TypeAdapter(DataTree)


def _passthrough_problem(data: Any, where: str) -> str | None:
    """Where ``data`` holds what the schema's ``DataTree`` refuses (its leaves by its own rule)."""
    if isinstance(data, dict):
        for key, value in data.items():
            if not isinstance(key, str):
                return f"{where} has the key {key!r}, and keys must be strings"
            if found := _passthrough_problem(value, f"{where}.{key}"):
                return found
        return None
    if isinstance(data, list | tuple):
        for index, value in enumerate(data):
            if found := _passthrough_problem(value, f"{where}[{index}]"):
                return found
        return None
    if isinstance(data, np.ndarray):
        return None
    try:
        _data_tree().validate_python(data)
    except ValidationError:
        return f"{where} is a {type(data).__name__} ({data!r:.40})"
    return None


def _build(where: str, make: Callable[..., _T], **fields: Any) -> _T:
    """``make(**fields)`` with the schema's and the tensor encoder's errors as ours."""
    try:
        return make(**fields)
    except ValidationError as exc:
        raise _schema_error(where, exc) from None


def _tensor(where: str, array: Any, model: type[CompressedTensorModel]) -> Any:
    try:
        return model.from_numpy(array)
    except ValidationError as exc:
        raise _schema_error(where, exc) from None
    except (ValueError, AttributeError):  # a dtype the schema has no name for
        raise InvalidInputError(
            f"The QuantumProgram cannot be sent to the executor: {where} is an array of "
            f"{getattr(array, 'dtype', type(array).__name__)}; arrays sent must be of bool, "
            "int8-64, uint8-64, float16-64 or complex64/128."
        ) from None


def _passthrough_to_model(data: Any, where: str) -> Any:
    """``passthrough_data`` with its arrays as tensors (qiskit-ibm-runtime's
    ``passthrough_data_to_2_0``)."""
    if isinstance(data, dict):
        return {key: _passthrough_to_model(value, f"{where}.{key}") for key, value in data.items()}
    if isinstance(data, list | tuple):
        return [_passthrough_to_model(value, f"{where}[{i}]") for i, value in enumerate(data)]
    if isinstance(data, np.ndarray):
        return _tensor(where, data, CompressedTensorModel)
    return data


def _samplex_arguments(item: SamplexItem, where: str) -> dict[str, Any]:
    """The bound samplex arguments, in the order of the samplex's specs."""
    arguments: dict[str, Any] = {}
    bound = item.samplex_arguments
    for spec in bound.specs:
        if spec.name not in bound:
            continue
        name, value = spec.name, bound[spec.name]
        if isinstance(spec, TensorSpecification) or isinstance(value, np.ndarray):
            arguments[name] = _tensor(f"{where}.{name}", value, CompressedTensorModel)
        elif isinstance(spec, PauliLindbladMapSpecification):
            arguments[name] = PauliLindbladMapModel.from_pauli_lindblad_map(value)
        else:
            arguments[name] = value
    return arguments


def _item_model(index: int, item: CircuitItem | SamplexItem) -> Any:
    where = f"items[{index}]"
    chunk_size = "auto" if item.chunk_size is None else item.chunk_size
    if isinstance(item, CircuitItem):
        return _build(
            where,
            CircuitItemModel,
            circuit_arguments=_tensor(
                f"{where}.circuit_arguments", item.circuit_arguments, F64CompressedTensorModel
            ),
            chunk_size=chunk_size,
            shape=[],  # as the official client: item shapes of circuit items are not used yet
        )
    try:
        samplex = SamplexModel.from_samplex(item.samplex, ssv=SSV)
    except ValidationError as exc:
        raise _schema_error(f"{where}.samplex", exc) from None
    return _build(
        where,
        SamplexItemModel,
        samplex=samplex,
        samplex_arguments=_samplex_arguments(item, f"{where}.samplex_arguments"),
        shape=item.shape,
        chunk_size=chunk_size,
    )


def _circuits_model(program: QuantumProgram) -> Any:
    circuits = [item.circuit for item in program.items]
    try:
        return CompressedQpyDataModel.from_python(circuits, qpy_version=qiskit.qpy.QPY_VERSION)
    except ValidationError as exc:
        raise _schema_error("circuits", exc) from None
    except Exception as exc:  # QPY raises many kinds for what it cannot write
        raise InvalidInputError(
            f"The QuantumProgram's circuits cannot be written as QPY: {exc}. Run circuits "
            "made of standard gates (transpiled for the backend)."
        ) from None


def _options_model(options: Mapping[str, Any]) -> Any:
    execution = options.get("execution") or {}
    values = {name: execution.get(name, default) for name, default in _EXECUTION_DEFAULTS.items()}
    experimental = options.get("experimental")
    if experimental:
        values["experimental"] = experimental
    return _build("options", OptionsModel, **values)


def executor_params(program: Any, options: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """The ``params`` of an executor job running ``program``, as the official client writes them.

    Parameters
    ----------
    program
        A samplomatic ``QuantumProgram`` (qiskit-ibm-runtime's ``QuantumProgram`` is one).
    options
        :class:`~jupyter_qrt.runtime.ExecutorOptions` as a dict (``to_dict()``): its
        ``execution`` and ``experimental`` entries are used.

    Raises
    ------
    InvalidInputError
        The program is not one the executor can run, or a value of it does not fit the schema
        (the message names the field).
    """
    checked = check_program(program)
    # Items before circuits, as the official converter: serialising a samplex names a scratch
    # circuit after qiskit's count of circuits made so far, which QPY-writing may move on.
    items = [_item_model(index, item) for index, item in enumerate(checked.items)]
    try:
        quantum_program = QuantumProgramModel(
            shots=checked.shots,
            circuits=_circuits_model(checked),
            items=items,
            meas_level=checked.meas_level,
            passthrough_data=_passthrough_to_model(checked.passthrough_data, "passthrough_data"),
            # qiskit-ibm-runtime's QuantumProgram subclass carries it; samplomatic's has none
            semantic_role=getattr(checked, "_semantic_role", None),
        )
    except ValidationError as exc:
        if exc.errors()[0]["loc"][:1] == ("passthrough_data",):
            problem = _passthrough_problem(checked.passthrough_data, "passthrough_data")
            if problem is not None:
                raise InvalidInputError(
                    f"The QuantumProgram cannot be sent to the executor: {problem}. Passthrough "
                    "data holds dicts with str keys, lists, numpy arrays, str, int, float, bool "
                    "and None."
                ) from None
        raise _schema_error("quantum_program", exc) from None
    model = _build(
        "params",
        ParamsModel,
        quantum_program=quantum_program,
        options=_options_model(options or {}),
    )
    params: dict[str, Any] = model.model_dump(mode="json")
    return params


# -- results -----------------------------------------------------------------------------------


def _utc(moment: datetime) -> datetime:
    # The official decoder writes UTC over whatever zone the text had; a zone given is honoured
    # here (the service writes UTC, where both agree).
    if moment.tzinfo is None:
        return moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)


def _passthrough_from_model(data: Any) -> Any:
    if isinstance(data, CompressedTensorModel):
        return data.to_numpy()
    if isinstance(data, dict):
        return {key: _passthrough_from_model(value) for key, value in data.items()}
    if isinstance(data, list):
        return [_passthrough_from_model(value) for value in data]
    return data


def _result_model(text: str | bytes) -> Any:
    try:
        return QuantumProgramResultModel.model_validate_json(text)
    except ValidationError as exc:
        try:
            document = json.loads(text)
        except ValueError:
            document = None
        if not isinstance(document, dict):
            why = "it is not a JSON object"
        elif "schema_version" not in document:
            why = "it has no schema_version, so it is not an executor result"
        elif document["schema_version"] != SCHEMA_VERSION:
            why = (
                f"it has schema version {document['schema_version']!r} and this client reads "
                f"{SCHEMA_VERSION!r}"
            )
        else:
            first = exc.errors()[0]
            location = ".".join(str(part) for part in first["loc"])
            why = f"{location}: {first['msg']}"
        raise InvalidInputError(f"Cannot read the executor result: {why}.") from None


def decode_program_result(text: str | bytes) -> QuantumProgramResult:
    """Read an executor job's result (``QuantumProgramResultModel`` v2.0 JSON).

    Returns
    -------
    QuantumProgramResult
        Per item its arrays by name (classical registers as bool arrays, samplex outputs) and
        metadata; the job's chunk timing (UTC); ``passthrough_data`` with its tensors as numpy
        arrays; the ``semantic_role``.

    Raises
    ------
    InvalidInputError
        The text is not a v2.0 executor result (the message says why).
    """
    model = _result_model(text)
    metadata = Metadata(
        chunk_timing=[
            ChunkSpan(
                _utc(span.start),
                _utc(span.stop),
                [ChunkPart(part.idx_item, part.size) for part in span.parts],
            )
            for span in model.metadata.chunk_timing
        ]
    )
    items = []
    for item in model.data:
        timing = item.metadata.scheduler_timing
        stretches = item.metadata.stretch_values
        items.append(
            QuantumProgramItemResult(
                {name: tensor.to_numpy() for name, tensor in item.results.items()},
                ItemMetadata(
                    scheduler_timing=SchedulerTiming(**dict(timing)) if timing else None,
                    stretch_values=(
                        [StretchValues(**dict(s)) for s in stretches] if stretches else None
                    ),
                ),
            )
        )
    return QuantumProgramResult(
        items,
        metadata=metadata,
        passthrough_data=_passthrough_from_model(model.passthrough_data),
        semantic_role=model.semantic_role,
    )
