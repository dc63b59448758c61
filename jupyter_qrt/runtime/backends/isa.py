"""Refuse circuits a backend cannot run as they are, before anything goes over the wire.

IBM backends only run ISA circuits: circuits made of the backend's own instructions, on qubits
where the backend has them. :func:`check_isa` accepts exactly what the official client's ISA
validation accepts (so a circuit that passes there passes here), and explains what is wrong and
how to transpile when a circuit does not.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

from qiskit.circuit import ControlFlowOp, ParameterExpression

from jupyter_qrt.runtime.errors import NotISAError

if TYPE_CHECKING:
    from qiskit.circuit import QuantumCircuit, Qubit
    from qiskit.transpiler import Target

__all__ = ["check_isa"]

# Barriers only order the transpiler's work and stores only move classical values: no backend
# lists them, and the service accepts them anywhere.
_ALWAYS_ALLOWED = frozenset({"barrier", "store"})
# rzz is calibrated for [0, pi/2]; the slack absorbs rounding in transpiled angles.
_RZZ_MAX_ANGLE = math.pi / 2 + 1e-10
_HOW_TO_FIX = (
    "Transpile the circuit for the backend first: "
    "`from qiskit.transpiler import generate_preset_pass_manager; "
    "isa_circuit = generate_preset_pass_manager(backend=backend, optimization_level=1)"
    ".run(circuit)`."
)
_MAX_LISTED = 8


def _listing(items: list[str]) -> str:
    shown = ", ".join(items[:_MAX_LISTED])
    return shown + (f" and {len(items) - _MAX_LISTED} more" if len(items) > _MAX_LISTED else "")


class _Checker:
    """Walks a circuit (and the blocks of its control flow) against one target."""

    def __init__(self, target: Target, backend_name: str) -> None:
        self.target = target
        self.backend_name = backend_name
        # Large circuits repeat the same (name, qubits) pairs many times.
        self.supported: dict[tuple[str, tuple[int, ...]], bool] = {}

    def problem(self, circuit: QuantumCircuit, qubit_index: dict[Qubit, int]) -> str | None:
        for instruction in circuit.data:
            operation = instruction.operation
            name = operation.name
            qargs = tuple(qubit_index[q] for q in instruction.qubits)
            key = (name, qargs)
            supported = self.supported.get(key)
            if supported is None:
                supported = self.supported[key] = name in _ALWAYS_ALLOWED or bool(
                    self.target.instruction_supported(name, qargs)
                )
            if not supported:
                return self.unsupported(name, qargs)
            if name == "rzz":
                angle = operation.params[0]
                if not isinstance(angle, ParameterExpression) and not (
                    0.0 <= angle <= _RZZ_MAX_ANGLE
                ):
                    return (
                        f"rzz on qubits {qargs} has angle {angle}, but {self.backend_name} runs "
                        "rzz only for angles in [0, pi/2]. The transpiler folds other angles "
                        "into that range."
                    )
            if isinstance(operation, ControlFlowOp):
                for block in operation.blocks:
                    inner = {
                        inner_qubit: qubit_index[outer_qubit]
                        for outer_qubit, inner_qubit in zip(
                            instruction.qubits, block.qubits, strict=False
                        )
                    }
                    if found := self.problem(block, inner):
                        return f"inside the {name} block: {found}"
        return None

    def unsupported(self, name: str, qargs: tuple[int, ...]) -> str:
        if name not in self.target.operation_names:
            names = ", ".join(sorted(self.target.operation_names))
            return (
                f"instruction {name!r} on qubits {qargs} is not supported by "
                f"{self.backend_name}, which supports {names}."
            )
        places = sorted(self.target.qargs_for_operation_name(name) or [])
        if not places:
            return (
                f"instruction {name!r} is not supported on qubits {qargs} of {self.backend_name}."
            )
        # The tuples that share a qubit with the bad one tell the user where to move it.
        nearby = [place for place in places if set(place) & set(qargs)]
        shown = _listing([str(place) for place in nearby or places])
        return (
            f"instruction {name!r} is not supported on qubits {qargs} of {self.backend_name}; "
            f"it is supported on {len(places)} qubit tuples"
            + (f", those sharing a qubit with {qargs} being {shown}." if nearby else f": {shown}.")
        )


def check_isa(circuit: QuantumCircuit, target: Target, *, backend_name: str) -> None:
    """Raise unless ``circuit`` is an ISA circuit for ``target``.

    A circuit is ISA when it is no wider than the backend and every instruction (also inside
    control flow blocks) is one the target supports on those qubits; barriers and stores are
    always allowed, and numeric ``rzz`` angles must lie in [0, pi/2]. This is the official
    client's rule.

    Parameters
    ----------
    circuit
        The circuit to check, with its qubits read as the backend's physical qubits.
    target
        The backend's transpiler target.
    backend_name
        Named in the error message.

    Raises
    ------
    NotISAError
        Naming the offending instruction and its qubits, and saying how to transpile.
    """
    label = f"Circuit {circuit.name!r}"
    if target.num_qubits is not None and circuit.num_qubits > target.num_qubits:
        raise NotISAError(
            f"{label} has {circuit.num_qubits} qubits but backend {backend_name} has only "
            f"{target.num_qubits}. Use a smaller circuit or a larger backend."
        )
    qubit_index = {qubit: index for index, qubit in enumerate(circuit.qubits)}
    problem = _Checker(target, backend_name).problem(circuit, qubit_index)
    if problem is not None:
        raise NotISAError(f"{label} is not ISA for backend {backend_name}: {problem} {_HOW_TO_FIX}")
