"""A :class:`qiskit.transpiler.Target` from a backend's configuration and properties JSON.

The service describes a backend with two JSON documents (``GET /backends/{name}/configuration``
and ``GET /backends/{name}/properties``; see the REST reference, section 5.1). Qiskit 2 no longer
ships models for them, so this module reads the plain dicts and builds the ``Target`` with the
same semantics as the official client, so that a circuit transpiled for one passes the other's
ISA check:

- instructions are the ``basis_gates``, plus ``measure``/``reset``/``delay`` and the control flow
  ops named in ``supported_instructions`` (``measure``/``reset``/``delay`` when that key is absent),
  plus the custom ``instruction_signatures`` (such as ``measure_2``);
- a gate is tied to the qubits of its ``coupling_map`` in ``gates``, and gets error and duration
  from the properties; measure gets the qubits' readout error and length;
- qubits or gates reported ``operational: 0`` are left out;
- fractional gates (``rzz``, ``rx``, ...) are stripped unless asked for; ``rzz`` is bounded to
  angles in [0, pi/2].

The calibration (in SI units: seconds, hertz) is read by :mod:`.calibration`; its names are
re-exported here.
"""

from __future__ import annotations

import functools
import logging
import math
from collections.abc import Mapping
from typing import Any

from qiskit.circuit import ControlFlowOp, Instruction, Parameter
from qiskit.circuit.controlflow import ForLoopOp, IfElseOp, SwitchCaseOp, WhileLoopOp
from qiskit.circuit.delay import Delay
from qiskit.circuit.gate import Gate
from qiskit.circuit.library import PhaseGate, RZGate, U1Gate, get_standard_gate_name_mapping
from qiskit.providers import QubitProperties
from qiskit.transpiler import InstructionProperties, Target

from .calibration import (
    Calibration,
    _bad_properties,
    calibration_from_json,
    malformed_backend_json,
    qubit_index_list,
)

__all__ = [
    "Calibration",
    "calibration_from_json",
    "check_configuration",
    "fractional_gate_names",
    "is_fractional_gate",
    "target_from_json",
]

logger = logging.getLogger(__name__)

_CONTROL_FLOW: dict[str, type[ControlFlowOp]] = {
    "if_else": IfElseOp,
    "while_loop": WhileLoopOp,
    "for_loop": ForLoopOp,
    "switch_case": SwitchCaseOp,
}
_NON_UNITARY = ("measure", "reset", "delay")
_TIMING_KEYS = ("granularity", "min_length", "pulse_alignment", "acquire_alignment")
# A wider rzz is not calibrated: the transpiler folds angles into this range.
_RZZ_ANGLE_BOUNDS = [(0.0, math.pi / 2)]


def is_fractional_gate(operation: Instruction) -> bool:
    """Tell whether IBM counts ``operation`` as a fractional gate.

    A fractional gate takes a continuous angle and costs real pulse time (``rzz``, ``rx``, ...).
    Virtual Z rotations and ``delay`` take a parameter but are not fractional.
    """
    return bool(operation.params) and not isinstance(operation, RZGate | PhaseGate | U1Gate | Delay)


@functools.cache
def fractional_gate_names() -> frozenset[str]:
    """Names of qiskit's standard gates that are fractional (see :func:`is_fractional_gate`)."""
    return frozenset(
        name for name, op in get_standard_gate_name_mapping().items() if is_fractional_gate(op)
    )


def _backend_label(configuration: Mapping[str, Any], backend_name: str | None) -> str:
    if backend_name:
        return backend_name
    name = configuration.get("backend_name") if isinstance(configuration, Mapping) else None
    return str(name) if name else "<unnamed backend>"


_bad_configuration = functools.partial(malformed_backend_json, "configuration")


def check_configuration(configuration: Any, *, backend_name: str | None = None) -> None:
    """Check that a configuration dict has what :func:`target_from_json` needs.

    Raises
    ------
    InvalidInputError
        Naming the missing or malformed key and the backend.
    """
    backend = _backend_label(configuration, backend_name)
    if not isinstance(configuration, Mapping):
        raise _bad_configuration(backend, f"expected a JSON object, got {configuration!r}")
    for key in ("n_qubits", "basis_gates", "gates"):
        if key not in configuration:
            raise _bad_configuration(backend, f"required key {key!r} is missing")
    num_qubits = configuration["n_qubits"]
    if not isinstance(num_qubits, int) or isinstance(num_qubits, bool) or num_qubits < 1:
        raise _bad_configuration(backend, f"'n_qubits' is {num_qubits!r}")
    for key in ("basis_gates", "supported_instructions"):
        names = configuration.get(key) or []
        if not isinstance(names, list) or not all(isinstance(n, str) for n in names):
            raise _bad_configuration(backend, f"{key!r} is not a list of names")
    gates = configuration["gates"]
    if not isinstance(gates, list):
        raise _bad_configuration(backend, "'gates' is not a list")
    for index, gate in enumerate(gates):
        if not isinstance(gate, Mapping) or not isinstance(gate.get("name"), str):
            raise _bad_configuration(backend, f"gates[{index}] has no 'name'")
        params = gate.get("parameters") or []
        if not isinstance(params, list) or not all(isinstance(p, str) for p in params):
            raise _bad_configuration(backend, f"gates[{index}]['parameters'] is bad")
        for qargs in gate.get("coupling_map") or []:
            if qubit_index_list(qargs, num_qubits) is None:
                raise _bad_configuration(
                    backend,
                    f"gate {gate['name']!r} lists qubits {qargs!r} outside 0..{num_qubits - 1}",
                )
    for index, signature in enumerate(configuration.get("instruction_signatures") or []):
        if not isinstance(signature, Mapping) or not all(
            key in signature for key in ("name", "num_qubits", "num_clbits")
        ):
            raise _bad_configuration(
                backend,
                f"instruction_signatures[{index}] needs 'name', 'num_qubits' and 'num_clbits'",
            )
    if not isinstance(configuration.get("timing_constraints") or {}, Mapping):
        raise _bad_configuration(backend, "'timing_constraints' is not an object")


_QargsMap = dict[tuple[int, ...], InstructionProperties | None]


def _definition(
    name: str, gate_configs: Mapping[str, Mapping[str, Any]], standard: Mapping[str, Instruction]
) -> Instruction | None:
    if name in standard:
        return standard[name]
    if name in gate_configs:
        # A gate the service names but qiskit does not know: an opaque gate of that shape.
        coupling = gate_configs[name].get("coupling_map") or []
        params = [Parameter(p) for p in gate_configs[name].get("parameters") or []]
        return Gate(name, len(coupling[0]) if coupling else 0, params)
    logger.warning("Backend instruction %r has no definition; it is left out", name)
    return None


def _operations(
    basis_gates: list[str],
    supported: list[str],
    signatures: list[Mapping[str, Any]],
    gate_configs: Mapping[str, Mapping[str, Any]],
) -> dict[str, Instruction | type[ControlFlowOp]]:
    """Name -> qiskit operation of every instruction the backend offers."""
    standard = get_standard_gate_name_mapping()
    operations: dict[str, Instruction | type[ControlFlowOp]] = {}
    for name in basis_gates:
        if name in _CONTROL_FLOW:
            operations[name] = _CONTROL_FLOW[name]
        elif name not in operations and (op := _definition(name, gate_configs, standard)):
            operations[name] = op
    # supported_instructions adds only the non-unitary instructions and control flow.
    for name in supported:
        if name in _CONTROL_FLOW:
            operations[name] = _CONTROL_FLOW[name]
        elif name in _NON_UNITARY and name not in operations:
            operations[name] = standard[name]
    for signature in signatures:
        operations[signature["name"]] = Instruction(
            name=signature["name"],
            num_qubits=signature["num_qubits"],
            num_clbits=signature["num_clbits"],
            params=[Parameter(p) for p in signature.get("parameters") or []],
        )
    return operations


def _calibrate(
    qargs_of: dict[str, _QargsMap | None],
    operations: Mapping[str, Instruction | type[ControlFlowOp]],
    calibration: Calibration,
    backend: str,
) -> None:
    """Put errors and durations on the qargs, dropping faulty qubits and gates."""
    faulty = calibration.faulty_qubits
    for name, operation in operations.items():
        if name in _CONTROL_FLOW or name not in calibration.gates:
            continue
        qargs_map = qargs_of[name]
        if qargs_map is None:
            qargs_map = qargs_of[name] = {}
        for qargs, values in calibration.gates[name].items():
            if isinstance(operation, Instruction) and len(qargs) != operation.num_qubits:
                raise _bad_properties(backend, f"{name!r} is listed on {list(qargs)}")
            if faulty.intersection(qargs) or not calibration.is_gate_operational(name, qargs):
                qargs_map.pop(qargs, None)
                continue
            qargs_map[qargs] = InstructionProperties(
                error=values.get("gate_error"), duration=values.get("gate_length")
            )
    # Measurement quality lives with the qubits, not with a "measure" gate entry.
    qargs_of["measure"] = {
        (q,): InstructionProperties(
            error=values.get("readout_error"), duration=values.get("readout_length")
        )
        for q, values in enumerate(calibration.qubits)
        if q not in faulty
    }


def target_from_json(
    configuration: Mapping[str, Any],
    properties: Mapping[str, Any] | None = None,
    *,
    include_fractional_gates: bool = False,
    backend_name: str | None = None,
) -> Target:
    """Build the transpiler ``Target`` of a backend from its configuration and properties JSON.

    Parameters
    ----------
    configuration
        The backend configuration as the service sends it (``n_qubits``, ``basis_gates``,
        ``gates``, ``supported_instructions``, ``dt`` in ns, ``timing_constraints``, ...).
    properties
        The calibration properties as the service sends them, or None (or empty) for an ideal
        target with no errors or durations (simulators).
    include_fractional_gates
        Keep fractional gates (``rzz``, ``rx``, ...). Off by default, as in the official client:
        the service does not run them together with dynamic circuits.
    backend_name
        Name used in error messages; defaults to the configuration's ``backend_name``.

    Returns
    -------
    qiskit.transpiler.Target

    Raises
    ------
    InvalidInputError
        If a required key is missing or malformed; the message names the key and the backend.
    """
    check_configuration(configuration, backend_name=backend_name)
    backend = _backend_label(configuration, backend_name)
    num_qubits: int = configuration["n_qubits"]
    excluded = frozenset() if include_fractional_gates else fractional_gate_names()
    gate_configs = {g["name"]: g for g in configuration["gates"] if g["name"] not in excluded}
    supported = [
        name
        for name in configuration.get("supported_instructions") or _NON_UNITARY
        if name not in excluded
    ]
    operations = _operations(
        [name for name in configuration["basis_gates"] if name not in excluded],
        supported,
        configuration.get("instruction_signatures") or [],
        gate_configs,
    )
    # None means "on every qubit, ideal"; a dict ties the instruction to the listed qargs.
    qargs_of: dict[str, _QargsMap | None] = {
        name: dict.fromkeys(tuple(q) for q in coupling)
        if (coupling := gate_configs.get(name, {}).get("coupling_map"))
        else None
        for name in operations
    }

    target_args: dict[str, Any] = {"num_qubits": num_qubits}
    if configuration.get("dt") is not None:
        target_args["dt"] = configuration["dt"] * 1e-9
    timing = configuration.get("timing_constraints") or {}
    target_args.update({key: timing[key] for key in _TIMING_KEYS if key in timing})
    faulty: frozenset[int] = frozenset()
    if properties:
        calibration = calibration_from_json(properties, num_qubits=num_qubits, backend_name=backend)
        faulty = calibration.faulty_qubits
        target_args["qubit_properties"] = [
            QubitProperties(t1=q.get("T1"), t2=q.get("T2"), frequency=q.get("frequency"))
            for q in calibration.qubits
        ]
        _calibrate(qargs_of, operations, calibration, backend)
    for name in supported:
        if name in _NON_UNITARY and qargs_of.get(name) is None:
            qargs_of[name] = {(q,): None for q in range(num_qubits) if q not in faulty}

    target = Target(**target_args)
    for name, operation in operations.items():
        if name in _CONTROL_FLOW:
            target.add_instruction(operation, name=name)
        else:
            target.add_instruction(
                operation,
                properties=qargs_of.get(name),
                name=name,
                angle_bounds=_RZZ_ANGLE_BOUNDS if name == "rzz" else None,
            )
    return target
