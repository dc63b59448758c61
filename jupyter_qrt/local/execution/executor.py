"""The ``executor`` program: IBM's directed execution model, on the simulated devices.

A job's params are a ``ParamsModel`` of ``ibm_quantum_schemas.executor.version_2_0``: a quantum
program (``shots``, one QPY blob with a circuit per item, ``items``, ``meas_level``,
``passthrough_data``, ``semantic_role``) and a few execution options. The schema package and
samplomatic are the source of truth for the data model; this module only runs it:

- a **circuit item** binds ``circuit_arguments`` (last axis over ``circuit.parameters``,
  broadcast against the item's ``shape``) and samples every binding ``shots`` times;
- a **samplex item** draws its randomizations with samplomatic (``Samplex.sample``: twirling,
  measurement flips, noise injection ... whatever the samplex holds), binds the template circuit
  to the drawn ``parameter_values`` and samples each randomization ``shots`` times; the other
  samplex outputs (e.g. ``measurement_flips.meas``) are returned next to the bits, so the
  client's post-processing undoes the randomizations as it does on IBM hardware.

Sampling goes through the same engines as the V2 programs (:func:`.engines.sample_batches`:
stim for Clifford bindings on noisy devices, qiskit-aer otherwise) with the device's calibrated
noise. Twirling is never modelled here: the samplex really randomizes the gates, so the noise
the client sees is the twirled noise. Samplex parameter values come as float32; angles within
:data:`CLIFFORD_SNAP` of a multiple of pi/2 are snapped to it, so that twirled Clifford layers
stay Clifford (as qiskit-ibm-runtime's own local executor rounds them).

The result is a ``QuantumProgramResultModel`` (``schema_version`` ``"v2.0"``): per item, each
classical register as a boolean array ``(*shape, shots, size)`` (column ``j`` is the register's
bit ``j``) plus the samplex outputs, with ``chunk_timing`` spans, ``passthrough_data`` and
``semantic_role`` echoed verbatim.

Chunks: with ``chunk_size: "auto"`` all items run as one chunk (one simulator call, one span);
with whole numbers every item runs in chunks of at most that many elements, one span each
(IBM allows whole numbers in a session only; the job registry refuses them elsewhere).
A simulator seed may be given as ``options.experimental.seed_simulator``: the samplex draws and
the shots are then repeatable.
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt
from qiskit import QuantumCircuit
from qiskit.primitives.containers.bindings_array import BindingsArray

from jupyter_qrt.local.devices import Device

from .engines import sample_batches
from .inputs import RunSettings, device_target, runnable_circuit
from .report import ExecutionError, ExecutionReport, JobLog, finished_report
from .simulate import ShotBits

if TYPE_CHECKING:
    from ibm_quantum_schemas.executor.version_2_0 import (
        ParamsModel,
        QuantumProgramResultModel,
    )

__all__ = ["CLIFFORD_SNAP", "EXECUTOR_SCHEMA", "execute_executor"]

logger = logging.getLogger(__name__)

EXECUTOR_SCHEMA = "v2.0"
"""The executor params schema this service runs (what qiskit-ibm-runtime 0.51 sends)."""

CLIFFORD_SNAP = 1e-5
"""Radians: a bound angle this close to a multiple of pi/2 is taken as that multiple.

Samplex parameter values are float32 (7 significant digits), so a twirled ``rz(pi/2)`` arrives
about 1e-7 off; any noise a device has dwarfs a 1e-5 rotation error.
"""

_SEED_OPTION = "seed_simulator"
_SAMPLEX_SEED_STREAM = 1_000_003  # keeps the samplex's draws apart from the shots' streams


@dataclass
class _Item:
    """One program item, ready to sample."""

    circuit: QuantumCircuit
    shape: tuple[int, ...]
    values: npt.NDArray[np.float64]  # (elements, num_parameters)
    extra: dict[str, np.ndarray]  # samplex outputs returned with the bits
    chunk: int | None  # elements per chunk; None: "auto"
    bits: ShotBits | None = None
    simulations: list[dict[str, Any]] = field(default_factory=list)

    @property
    def size(self) -> int:
        return int(math.prod(self.shape))


def execute_executor(
    device: Device, params: Mapping[str, Any], *, seed: int | None = None
) -> ExecutionReport:
    """Run an ``executor`` job's params on ``device``.

    Parameters
    ----------
    device
        Where to run.
    params
        The job's params: a v2.0 ``ParamsModel`` as JSON data.
    seed
        Simulator seed when ``options.experimental.seed_simulator`` sets none.

    Returns
    -------
    ExecutionReport
        ``result`` is the ``QuantumProgramResultModel``.

    Raises
    ------
    ExecutionError
        The params do not follow the schema (the message names the field), or an item cannot
        run on ``device``; nothing ran.
    """
    from ibm_quantum_schemas.executor.version_2_0 import (
        ChunkPart,
        ChunkSpan,
        ItemMetadataModel,
        MetadataModel,
        QuantumProgramResultItemModel,
        QuantumProgramResultModel,
    )

    log = JobLog()
    model = validated_params(params)
    program = model.quantum_program
    if program.meas_level != "classified":
        raise ExecutionError(
            f"meas_level {program.meas_level!r} returns the IQ data of measurement hardware; the "
            f"local service's {device.name} returns classified bits only. Use "
            "meas_level='classified'."
        )
    options = model.options
    chosen = options.experimental.get(_SEED_OPTION)
    settings = RunSettings.from_options(
        device,
        {"execution": {"rep_delay": options.rep_delay}, "simulator": {_SEED_OPTION: chosen}},
        seed,
        log,
    )
    _log_unsimulated(model, device, log)
    circuits = _circuits(model)
    target = device_target(device)
    if program.shots > device.max_shots:
        raise ExecutionError(
            f"The program asks for {program.shots} shots per element, but {device.name} allows "
            f"at most {device.max_shots}. Ask for fewer shots."
        )
    rng = np.random.default_rng(
        None if settings.seed is None else [settings.seed, _SAMPLEX_SEED_STREAM]
    )
    items = [
        _prepared(index, runnable_circuit(circuit, device, target, index, what="Item"), item, rng)
        for index, (circuit, item) in enumerate(zip(circuits, program.items, strict=True))
    ]
    log.record(
        f"Executing {len(items)} item(s) of {program.shots} shots on {device.name} "
        + ("(ideal, no noise)." if device.simulator else "with its calibrated noise model.")
    )
    started = datetime.now(UTC)
    clock = time.perf_counter()
    shots = program.shots
    for item in items:
        item.bits = np.zeros((item.size, shots, item.circuit.num_clbits), dtype=np.bool_)
    spans = []
    for run, chunk in enumerate(_chunks(items)):
        span_start = datetime.now(UTC)
        batches = [(items[i].circuit, _bindings(items[i], start, stop)) for i, start, stop in chunk]
        bits, simulations = sample_batches(batches, shots, settings.seed_for(run), device)
        for (i, start, stop), chunk_bits, simulation in zip(chunk, bits, simulations, strict=True):
            target_bits = items[i].bits
            assert target_bits is not None
            target_bits[start:stop] = chunk_bits
            if simulation not in items[i].simulations:
                items[i].simulations.append(simulation)
        parts = [
            ChunkPart(
                idx_item=i,
                size=stop - start,
                permutation=list(range(len(items[i].shape))),
                element_range=(start, stop, 1),
            )
            for i, start, stop in chunk
        ]
        spans.append(ChunkSpan(start=span_start, stop=datetime.now(UTC), parts=parts))
    device_seconds = 0.0
    data = []
    for index, item in enumerate(items):
        device_seconds += item.size * shots * settings.shot_seconds(item.circuit, target)
        for simulation in item.simulations:
            log.record(f"Item {index} ran with {_described(simulation)}.")
        data.append(
            QuantumProgramResultItemModel(
                results=_item_results(item, shots), metadata=ItemMetadataModel()
            )
        )
    result: QuantumProgramResultModel = QuantumProgramResultModel(
        data=data,
        metadata=MetadataModel(chunk_timing=spans),
        passthrough_data=program.passthrough_data,
        semantic_role=program.semantic_role,
    )
    return finished_report(
        result,
        device=device,
        device_seconds=device_seconds,
        started=started,
        clock=clock,
        log=log,
        shots=sum(item.size for item in items) * shots,
        metrics={"items": len(items)},
    )


def validated_params(params: Mapping[str, Any]) -> ParamsModel:
    """``params`` as a v2.0 ``ParamsModel``, or an :class:`ExecutionError` naming the field."""
    from ibm_quantum_schemas.executor.version_2_0 import ParamsModel
    from pydantic import ValidationError

    if not isinstance(params, Mapping):
        raise ExecutionError("The executor job's params must be an object (a ParamsModel).")
    version = params.get("schema_version")
    if version != EXECUTOR_SCHEMA:
        raise ExecutionError(
            f"The executor params have schema_version {version!r}; this service runs "
            f"{EXECUTOR_SCHEMA!r} (what qiskit-ibm-runtime 0.51's Executor sends). Upgrade the "
            "client, or build the params with ibm_quantum_schemas.executor.version_2_0."
        )
    try:
        return ParamsModel.model_validate(params)
    except ValidationError as exc:
        raise ExecutionError(
            "The executor params do not follow the executor schema v2.0: "
            + "; ".join(_error_line(error) for error in exc.errors()[:3])
            + ". Build the program with samplomatic's QuantumProgram and an Executor "
            "(qiskit-ibm-runtime or jupyter_qrt.runtime)."
        ) from None
    except Exception as exc:  # a tensor or QPY blob that does not decode
        raise ExecutionError(
            f"The executor params could not be read ({type(exc).__name__}: {exc}). Build the "
            "program with samplomatic's QuantumProgram and an Executor."
        ) from None


def _error_line(error: Mapping[str, Any]) -> str:
    where = "params"
    for part in error.get("loc", ()):
        where += f"[{part}]" if isinstance(part, int) else f".{part}"
    return f"{where}: {error.get('msg', 'invalid')}"


def _circuits(model: ParamsModel) -> list[QuantumCircuit]:
    try:
        circuits = list(model.quantum_program.circuits.to_python())
    except Exception as exc:  # QPY errors have no common base class
        raise ExecutionError(
            "params.quantum_program.circuits could not be read as QPY or OpenQASM 3 "
            f"({type(exc).__name__}: {exc}). Send circuits the way the Executor writes them."
        ) from None
    if not all(isinstance(circuit, QuantumCircuit) for circuit in circuits):
        raise ExecutionError("params.quantum_program.circuits must hold quantum circuits.")
    return circuits


def _log_unsimulated(model: ParamsModel, device: Device, log: JobLog) -> None:
    options = model.options
    if not options.init_qubits:
        log.record(
            f"init_qubits=False: every shot on {device.name} still starts from |0>, as with "
            "init_qubits=True (the simulator keeps no state between shots).",
            logging.WARNING,
        )
    if options.scheduler_timing or options.stretch_values:
        log.record(
            "scheduler_timing / stretch_values are not computed by the local service: the "
            "items' metadata leaves them empty.",
            logging.WARNING,
        )
    ignored = sorted(key for key in options.experimental if key != _SEED_OPTION)
    if ignored:
        log.record(
            f"Experimental options {', '.join(ignored)} are ignored by the local service.",
            logging.WARNING,
        )


def _prepared(index: int, circuit: QuantumCircuit, item: Any, rng: np.random.Generator) -> _Item:
    chunk = None if item.chunk_size == "auto" else int(item.chunk_size)
    if item.item_type == "circuit":
        values = np.asarray(item.circuit_arguments.to_numpy(), dtype=np.float64)
        if values.ndim == 0 or values.shape[-1] != circuit.num_parameters:
            given = values.shape[-1] if values.ndim else 0
            raise ExecutionError(
                f"Item {index}: circuit_arguments' last axis holds {given} values but the "
                f"circuit has {circuit.num_parameters} parameters. Give one value per parameter, "
                "in circuit.parameters order."
            )
        shape = _broadcast(index, tuple(item.shape), values.shape[:-1], "circuit_arguments")
        values = np.broadcast_to(values, (*shape, circuit.num_parameters))
        return _Item(circuit, shape, _flat(values, circuit), {}, chunk)
    shape = tuple(int(n) for n in item.shape)
    outputs = _sample_samplex(index, item, shape, rng)
    drawn = outputs.pop("parameter_values", None)
    if drawn is None:
        drawn = np.zeros((*shape, 0))
    if drawn.shape[-1] != circuit.num_parameters:
        raise ExecutionError(
            f"Item {index}: the samplex draws {drawn.shape[-1]} parameter values but its circuit "
            f"has {circuit.num_parameters} parameters. Build the samplex and the circuit together "
            "with samplomatic.build()."
        )
    values = _snapped(np.asarray(drawn, dtype=np.float64))
    return _Item(circuit, shape, _flat(values, circuit), outputs, chunk)


def _broadcast(
    index: int, shape: tuple[int, ...], implicit: tuple[int, ...], what: str
) -> tuple[int, ...]:
    try:
        return tuple(int(n) for n in np.broadcast_shapes(shape, implicit))
    except ValueError:
        raise ExecutionError(
            f"Item {index}: its shape {list(shape)} does not extend the shape {list(implicit)} "
            f"of its {what}. Make the item's shape broadcast with them."
        ) from None


def _flat(values: np.ndarray, circuit: QuantumCircuit) -> npt.NDArray[np.float64]:
    """``(*shape, num_parameters)`` values as rows ``(elements, num_parameters)``."""
    elements = int(math.prod(values.shape[:-1]))
    flat = values.reshape(elements, circuit.num_parameters)
    return np.ascontiguousarray(flat, dtype=np.float64)


def _snapped(values: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
    """Angles within :data:`CLIFFORD_SNAP` of a multiple of pi/2 set to that multiple."""
    turns = np.round(values / (np.pi / 2))
    near = np.abs(values - turns * (np.pi / 2)) <= CLIFFORD_SNAP
    return np.where(near, turns * (np.pi / 2), values)


def _sample_samplex(
    index: int, item: Any, shape: tuple[int, ...], rng: np.random.Generator
) -> dict[str, np.ndarray]:
    """Draw the samplex over ``shape``: broadcast axes of its arguments, randomizations else.

    The arguments' axes of size > 1 (right-aligned with ``shape``) are a sweep: the samplex is
    sampled once per element with those arguments; the remaining axes of ``shape`` enumerate
    randomizations. Outputs come back shaped ``(*shape, *intrinsic)``.
    """
    from ibm_quantum_schemas.common import CompressedTensorModel, PauliLindbladMapModel

    try:
        samplex = item.samplex.to_samplex()
        if not getattr(samplex, "_finalized", True):
            samplex.finalize()  # a samplex read back from JSON must be finalized to sample
        arguments = samplex.inputs().make_broadcastable()
        for name, value in item.samplex_arguments.items():
            if isinstance(value, CompressedTensorModel):
                arguments[name] = value.to_numpy()
            elif isinstance(value, PauliLindbladMapModel):
                arguments[name] = value.to_pauli_lindblad_map()
            else:
                arguments[name] = value
    except Exception as exc:  # samplomatic's errors have no common base class
        raise ExecutionError(
            f"Item {index}: its samplex or samplex_arguments could not be read "
            f"({type(exc).__name__}: {exc}). Build them with samplomatic.build() and give every "
            "input the samplex lists."
        ) from None
    ndim = len(shape)
    if arguments.ndim > ndim:
        raise ExecutionError(
            f"Item {index}: its samplex_arguments have {arguments.ndim} axes but its shape "
            f"{list(shape)} only {ndim}. Give the item a shape that extends its arguments'."
        )
    padded = (1,) * (ndim - arguments.ndim) + tuple(arguments.shape)
    _broadcast(index, shape, padded, "samplex_arguments")
    sweep_axes = [axis for axis in range(ndim) if padded[axis] > 1]
    random_axes = [axis for axis in range(ndim) if padded[axis] <= 1]
    random_shape = tuple(shape[axis] for axis in random_axes)
    randomizations = int(math.prod(random_shape))
    outputs: dict[str, np.ndarray] = {}
    for sweep_index in np.ndindex(*(shape[axis] for axis in sweep_axes)):
        chosen = iter(sweep_index)
        at = tuple(next(chosen) if size > 1 else 0 for size in arguments.shape)
        try:
            drawn = dict(samplex.sample(arguments[at], num_randomizations=randomizations, rng=rng))
        except Exception as exc:
            raise ExecutionError(
                f"Item {index}: the samplex could not be sampled ({type(exc).__name__}: {exc}). "
                "Check that every required samplex input is given."
            ) from None
        chosen = iter(sweep_index)
        where = tuple(next(chosen) if size > 1 else slice(None) for size in padded)
        for name, value in drawn.items():
            array = np.asarray(value)
            if name not in outputs:
                outputs[name] = np.empty((*shape, *array.shape[1:]), dtype=array.dtype)
            outputs[name][where] = array.reshape(*random_shape, *array.shape[1:])
    return outputs


def _chunks(items: Sequence[_Item]) -> list[list[tuple[int, int, int]]]:
    """The chunks to run: each a list of ``(item, start, stop)`` element ranges."""
    if all(item.chunk is None for item in items):
        return [[(i, 0, item.size) for i, item in enumerate(items) if item.size]]
    chunks: list[list[tuple[int, int, int]]] = []
    for i, item in enumerate(items):
        step = item.chunk or item.size or 1
        for start in range(0, item.size, step):
            chunks.append([(i, start, min(start + step, item.size))])
    return chunks


def _bindings(item: _Item, start: int, stop: int) -> BindingsArray:
    values = item.values[start:stop]
    if not item.circuit.num_parameters:
        return BindingsArray(shape=(stop - start,))
    return BindingsArray({tuple(item.circuit.parameters): values})


def _item_results(item: _Item, shots: int) -> dict[str, Any]:
    from ibm_quantum_schemas.common import CompressedTensorModel

    bits = item.bits
    assert bits is not None
    results: dict[str, Any] = {}
    for register in item.circuit.cregs:
        columns = [item.circuit.find_bit(bit).index for bit in register]
        array = bits[:, :, columns].reshape(*item.shape, shots, register.size)
        results[register.name] = CompressedTensorModel.from_numpy(np.ascontiguousarray(array))
    for name, value in item.extra.items():
        results[name] = CompressedTensorModel.from_numpy(np.ascontiguousarray(value))
    return results


def _described(simulation: Mapping[str, Any]) -> str:
    method = simulation.get("method", "?")
    engine = simulation.get("engine", "qiskit-aer")
    noise = simulation.get("noise")
    return f"{engine} ({method})" + (f", noise: {noise}" if noise else "")
